package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The operator's view: -access-log writes a combined line per request, and
// logrotate's rename + SIGUSR1 moves the next lines to a new file without a
// restart; the lines logged before are in the renamed one.
func TestAccessLogFlagAndSIGUSR1Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-engine", "auto", "-access-log", path)
	get := func(p string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+s.addr+p, nil)
		req.Header.Set("User-Agent", "rotate-test")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, p := range []string{"/", "/fibonacci", "/nope"} {
		get(p)
	}
	require.NoError(t, os.Rename(path, path+".1"))
	s.signal(t, syscall.SIGUSR1)
	s.waitLog(t, "access log reopened")
	get("/")
	get("/")
	s.signal(t, syscall.SIGTERM)
	require.Equal(t, 0, s.wait(t), s.log.String())

	old, err := os.ReadFile(path + ".1")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(old)), "\n")
	require.Len(t, lines, 3, string(old))
	assert.Contains(t, lines[0], `"GET / HTTP/1.1" 200 13 "-" "rotate-test"`)
	assert.Contains(t, lines[1], `"GET /fibonacci HTTP/1.1" 200 `)
	assert.Contains(t, lines[2], `"GET /nope HTTP/1.1" 404 `)
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(cur), "\n"), string(cur))
}

func TestAccessLogFlagErrors(t *testing.T) {
	code, out := runOut(t, "-access-log-format", "xml")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, `uringd: -access-log-format: "xml": want combined or json`)
	code, out = runOut(t, "-access-log", filepath.Join(t.TempDir(), "no", "such", "dir", "a.log"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "uringd: -access-log: open ")
	assert.Equal(t, 1, strings.Count(out, "uringd:"), out)
}

func TestProxyProtocolFlags(t *testing.T) {
	for _, args := range [][]string{{"-proxy-protocol"}, {"-proxy-from", "10.0.0.0/8"}} {
		code, out := runOut(t, args...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, out, "uringd: -proxy-protocol and -proxy-from go together")
	}
	code, out := runOut(t, "-proxy-protocol", "-proxy-from", "10.0.0.0/33")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, `-proxy-from`)
	assert.Contains(t, out, `10.0.0.0/33`)
}

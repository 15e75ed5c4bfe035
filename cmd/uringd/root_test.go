package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("ping"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// With -root the site's files are served, its own /fibonacci and /echo
// included: the demo routes are mounted only without -root, or with -demo
// beside it (they used to stay mounted and win over the site's files). The
// startup line names the root. -listing lists a directory without an index;
// -404 names the site's own 404 page.
func TestRootServesTheSiteNotTheDemo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("site index"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fibonacci"), []byte("site fibonacci"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "echo"), []byte("site echo"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "files"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "a.txt"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "404.html"), []byte("<p>not here</p>"), 0o644))

	t.Run("root", func(t *testing.T) {
		s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-root", dir)
		assert.Contains(t, s.log.String(), "root="+dir)
		base := "http://" + s.addr
		for path, want := range map[string]string{"/": "site index", "/fibonacci": "site fibonacci", "/echo": "site echo"} {
			code, body := get(t, "GET", base+path)
			assert.Equal(t, 200, code, path)
			assert.Equal(t, want, body, path)
		}
		code, _ := get(t, "POST", base+"/echo")
		assert.Equal(t, 405, code, "a file answers GET and HEAD only")
		code, _ = get(t, "GET", base+"/files/")
		assert.Equal(t, 404, code, "no listing without -listing")
		s.signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, s.wait(t))
	})
	t.Run("root+demo+listing", func(t *testing.T) {
		s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-root", dir, "-demo", "-listing", "-404", "404.html")
		base := "http://" + s.addr
		code, body := get(t, "GET", base+"/")
		assert.Equal(t, 200, code)
		assert.Equal(t, "site index", body)
		_, body = get(t, "GET", base+"/fibonacci")
		assert.Contains(t, body, "Fibonacci(10^6) = ")
		code, body = get(t, "POST", base+"/echo")
		assert.Equal(t, 200, code)
		assert.Equal(t, "ping", body)
		code, body = get(t, "GET", base+"/files/")
		assert.Equal(t, 200, code)
		assert.Contains(t, body, `<a href="a.txt">a.txt</a>`)
		code, body = get(t, "GET", base+"/files/missing")
		assert.Equal(t, 404, code)
		assert.Equal(t, "<p>not here</p>", body, "-404's page")
		s.signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, s.wait(t))
	})
	t.Run("demo", func(t *testing.T) {
		s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1")
		assert.Contains(t, s.log.String(), `root="(demo routes)"`)
		base := "http://" + s.addr
		_, body := get(t, "GET", base+"/")
		assert.Equal(t, "Hello, World!", body)
		_, body = get(t, "GET", base+"/fibonacci")
		assert.Contains(t, body, "Fibonacci(10^6) = ")
		_, body = get(t, "POST", base+"/echo")
		assert.Equal(t, "ping", body)
		s.signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, s.wait(t))
	})
}

// -precompressed sends a file's .gz (or .br, .zst) sibling to a client that
// accepts it, with Vary; without the flag the file itself is sent.
func TestPrecompressedFlag(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css"), []byte("body{}"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.css.gz"), []byte("gzip bytes"), 0o644))
	old := time.Unix(1, 0) // the sibling must not be older than the file
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a.css"), old, old))
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	fetch := func(base string) (string, string, string) {
		req, err := http.NewRequest("GET", base+"/a.css", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b), resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary")
	}
	for _, on := range []bool{true, false} {
		args := []string{"-addr", "127.0.0.1:0", "-workers", "1", "-root", dir}
		if on {
			args = append(args, "-precompressed")
		}
		s := startServer(t, false, args...)
		body, enc, vary := fetch("http://" + s.addr)
		if on {
			assert.Equal(t, "gzip bytes", body)
			assert.Equal(t, "gzip", enc)
			assert.Equal(t, "Accept-Encoding", vary)
		} else {
			assert.Equal(t, "body{}", body)
			assert.Empty(t, enc)
		}
		s.signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, s.wait(t))
	}
}

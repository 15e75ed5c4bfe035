package static_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/static"
)

// testServer is a uringd.Server on 127.0.0.1:0 with a static handler mounted.
type testServer struct {
	srv  *uringd.Server
	h    *static.Handler
	base string // "http://127.0.0.1:port"
	addr string
}

func startServer(t *testing.T, cfg static.Config) *testServer {
	t.Helper()
	return startServerOn(t, cfg, uringd.EngineIOUring)
}

// engines are the server engines the key tests run on: the handler is the
// same, misses are offloaded to the blocking pool (io_uring) or answered on
// the connection's goroutine (netpoll).
var engines = []struct {
	name   string
	engine uringd.Engine
}{{"io_uring", uringd.EngineIOUring}, {"netpoll", uringd.EngineNetpoll}}

func startServerOn(t *testing.T, cfg static.Config, engine uringd.Engine) *testServer {
	t.Helper()
	h, err := static.New(cfg)
	require.NoError(t, err)
	srv, err := uringd.New(uringd.Config{Addr: "127.0.0.1:0", Workers: 2, Engine: engine})
	require.NoError(t, err)
	h.Mount(srv)
	if err := srv.Start(); err != nil {
		h.Close()
		t.Skipf("cannot start uringd (io_uring unavailable?): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = h.Close()
	})
	addr := srv.Addr().String()
	return &testServer{srv: srv, h: h, base: "http://" + addr, addr: addr}
}

// writeTree creates files (name -> content) under dir; names use '/'.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// client never follows redirects and never decompresses, so every status
// and header is seen as sent.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DisableCompression:  true,
			MaxIdleConnsPerHost: 256,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request with the given headers ("Name: value" pairs) and
// returns the response with its body read.
func do(t *testing.T, c *http.Client, method, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for _, kv := range hdr {
		k, v, ok := strings.Cut(kv, ": ")
		require.True(t, ok, kv)
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// rawGet sends target verbatim over a fresh TCP connection (no client-side
// cleaning or escaping) and returns the parsed response and body.
func rawGet(t *testing.T, addr, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }

//go:build !race

package uringd

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlainPathAllocsWithOffloadRoutes: registering blocking routes adds
// nothing to the plain handlers' hot path (the offload hooks are nil checks).
// AllocsPerRun counts every goroutine's mallocs, so the client reuses its
// buffers and the net.Conn read/write path does not allocate.
func TestPlainPathAllocsWithOffloadRoutes(t *testing.T) {
	s := startEngine(t, fastPath, Config{}, func(s *Server) {
		s.HandleFunc("GET /plain", func(w *Response, r *Request) { w.WriteString("Hello, World!") })
		s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {}))
		s.Handle("/std/", FromHTTP(nil2xx{}))
	})
	c := dialRaw(t, s)
	req := []byte("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
	_, err := c.Write(req)
	require.NoError(t, err)
	resp, _ := c.read(t, "GET")
	require.Equal(t, 200, resp.StatusCode)
	// Learn the response size (the Date line has a fixed length).
	_, err = c.Write(req)
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n, err := c.Conn.Read(buf)
	require.NoError(t, err)
	size := n
	roundTrip := func() {
		if _, err := c.Conn.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c.Conn, buf[:size]); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if a := testing.AllocsPerRun(500, roundTrip); a != 0 {
		t.Fatalf("allocs per plain request with offload routes registered = %v; want 0", a)
	}
}

type nil2xx struct{}

func (nil2xx) ServeHTTP(w http.ResponseWriter, r *http.Request) {}

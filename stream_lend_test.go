package uringd

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyEcho is cmd/uringd's /echo: io.Copy(w, Body(ctx, r)) with the
// request's Content-Length. On io_uring it takes the body's WriteTo, whose
// views of the receive window are lent to the connection (worker/bodylend.go).
func copyEcho(ctx context.Context, w ResponseWriter, r *Request) {
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	w.Header()["Content-Type"] = nil
	_, _ = io.Copy(w, Body(ctx, r))
}

// An io.Copy echo gives back every body byte in order, whatever its size
// (below, at and past the ResponseWriter's pass-through and buffer sizes,
// and many windows), its framing and however the client's writes split it,
// several times on one connection (windows are reused) and with a request
// pipelined behind; and on several connections at once (the window pool is
// shared).
func TestStreamedBodyCopyEcho(t *testing.T) {
	sizes := []int{0, 1, 8<<10 - 1, 8 << 10, 40 << 10, 300_000, 3<<20 + 17}
	ForEachMode(t, func(t *testing.T, m TestMode) {
		cfg := m.Cfg
		cfg.MaxBody = 64 << 20
		s := startEngine(t, m, cfg, func(s *Server) {
			s.Handle("POST /echo", Blocking(StreamingBody(BlockingHandlerFunc(copyEcho))))
			s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
		})
		for conn := range 4 {
			t.Run(fmt.Sprint("conn", conn), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(conn), 7))
				c := dialRaw(t, s)
				for round := range 2 {
					for _, size := range sizes {
						for _, chunked := range []bool{false, true} {
							body := make([]byte, size)
							for i := range body {
								body[i] = byte(rng.Uint32())
							}
							head, wire := frame("/echo", body, chunked)
							msg := append(append([]byte(head), wire...), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"...)
							werr := make(chan error, 1)
							go func() { // the echo comes back while the body goes out
								for len(msg) > 0 {
									n := min(1+rng.IntN(200_000), len(msg))
									if _, err := c.Write(msg[:n]); err != nil {
										werr <- err
										return
									}
									msg = msg[n:]
								}
								werr <- nil
							}()
							what := fmt.Sprintf("conn %d round %d size %d chunked %v", conn, round, size, chunked)
							resp, got := c.read(t, "POST")
							require.Equal(t, http.StatusOK, resp.StatusCode, what)
							require.True(t, string(body) == got, "%s: the echo differs (%d bytes back)", what, len(got))
							if !chunked {
								assert.EqualValues(t, size, resp.ContentLength, what)
							}
							resp, got = c.read(t, "GET")
							require.Equal(t, "hello", got, what)
							require.NoError(t, <-werr, what)
						}
					}
				}
			})
		}
	})
}

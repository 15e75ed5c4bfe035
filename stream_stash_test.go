package uringd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client sends its whole streamed body at once, a request pipelined
// behind it, and half-closes, while the handler does not read yet: the
// server reads until the body's window is full, and what the kernel had
// already received past it (completions queued before the read stopped)
// is kept aside off the Go heap (worker/body.go forwardStash). The handler
// then gets the whole body, in order and not truncated by the half-close
// that came after it, and the pipelined request is answered after it.
func TestStreamedBodyPastFullWindow(t *testing.T) {
	body := make([]byte, 1<<20) // the window (256 KiB) and more, all in the ring buffers (4 MiB)
	for i := range body {
		body[i] = byte(i*13 + i>>11)
	}
	want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
	for _, m := range TestModes {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/chunked=%v", m.Name, chunked), func(t *testing.T) {
				SkipWithoutIOUring(t, m.Engine)
				blocked, started := make(chan struct{}, 1), make(chan struct{}, 1)
				s := startEngine(t, m, Config{}, func(s *Server) {
					s.Handle("POST /blk", Blocking(StreamingBody(BlockingHandlerFunc(
						func(ctx context.Context, w ResponseWriter, r *Request) {
							d, err := digest(Body(ctx, r), started)
							if err != nil {
								http.Error(w, err.Error(), 500)
								return
							}
							fmt.Fprint(w, d)
						}))))
					s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
					// Holds up the worker's loop (a plain handler runs on
					// it), so that the body arrives while nobody reads
					// its completions: they come in one batch, head and
					// body, and most of it lands past the window.
					s.HandleFunc("GET /block", func(w *Response, r *Request) {
						blocked <- struct{}{}
						time.Sleep(300 * time.Millisecond)
						w.WriteString("unblocked")
					})
				})
				c := dialRaw(t, s)
				_, err := c.Write([]byte("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))
				require.NoError(t, err)
				_, got := c.read(t, "GET") // c is accepted and read
				require.Equal(t, "hello", got)
				other := dialRaw(t, s)
				_, err = other.Write([]byte("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"))
				require.NoError(t, err)
				<-blocked
				head, wire := frame("/blk", body, chunked)
				msg := append(append([]byte(head), wire...), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"...)
				wrote := make(chan error, 1)
				go func() {
					_, err := c.Write(msg)
					if err == nil {
						err = c.Conn.(*net.TCPConn).CloseWrite()
					}
					wrote <- err
				}()
				_, got = other.read(t, "GET")
				require.Equal(t, "unblocked", got)
				resp, got := c.read(t, "POST")
				require.Equal(t, 200, resp.StatusCode, got)
				assert.Equal(t, want, got)
				resp, got = c.read(t, "GET")
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, "hello", got)
				require.NoError(t, <-wrote)
			})
		}
	}
}

package uringd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
)

// expectEOF asserts that the server ends the connection cleanly (FIN, not a
// reset) without sending anything more.
func (c *rawConn) expectEOF(t *testing.T) {
	t.Helper()
	var buf [1]byte
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, err := c.br.Read(buf[:])
	require.Equal(t, 0, n, "unexpected byte %q", buf[:n])
	require.ErrorIs(t, err, io.EOF, "the connection must end with a FIN, not a reset or a timeout")
}

// A client that sends its request and shuts down its write side while a
// blocking or net/http handler works still gets the whole response, as
// from net/http: a half-close says "that was all", not "I am gone".
func TestHalfCloseDuringDetachedHandlerGetsResponse(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB: several sends
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, m.Cfg, func(s *Server) {
			s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				time.Sleep(200 * time.Millisecond) // the client's EOF comes in meanwhile
				io.WriteString(w, big)
			}))
			s.Handle("/nethttp/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				time.Sleep(200 * time.Millisecond)
				fmt.Fprintf(w, "%s|%s", body, big)
			})))
			s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
		})
		for _, tc := range []struct{ name, req, body, want string }{
			{"blocking", "GET /blocking HTTP/1.1\r\nHost: x\r\n\r\n", "", big},
			{"nethttp", "GET /nethttp/x HTTP/1.1\r\nHost: x\r\n\r\n", "", "|" + big},
			{"nethttp_body", "POST /nethttp/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "", "hello|" + big},
			// The head first, so the handler streams the body as it comes.
			{"nethttp_streamed_body", "POST /nethttp/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", "hello", "hello|" + big},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := dialRaw(t, s)
				_, err := io.WriteString(c, tc.req)
				require.NoError(t, err)
				if tc.body != "" {
					time.Sleep(50 * time.Millisecond)
					_, err = io.WriteString(c, tc.body)
					require.NoError(t, err)
				}
				require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
				resp, body := c.read(t, "GET")
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, len(tc.want), len(body))
				assert.True(t, tc.want == body, "the body differs")
				c.expectEOF(t)
			})
		}
		t.Run("pipelined_behind", func(t *testing.T) {
			c := dialRaw(t, s)
			_, err := io.WriteString(c, "GET /blocking HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
			_, body := c.read(t, "GET")
			assert.True(t, big == body, "the first body differs")
			_, body = c.read(t, "GET")
			assert.Equal(t, "hello", body)
			c.expectEOF(t)
		})
	})
}

func unescape(q string) string { return strings.ReplaceAll(q, "%20", " ") }

// A handler's "Connection: close" is a connection option, case-insensitive
// (RFC 9110 section 7.6.1), maybe one of a list: in any spelling it closes
// the connection after the response, on every handler kind and engine.
func TestHandlerConnectionCloseAnyCase(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, m.Cfg, func(s *Server) {
			s.HandleFunc("GET /plain", func(w *Response, r *Request) {
				require.NoError(t, w.SetHeader("Connection", unescape(string(r.Query))))
				w.WriteString("plain")
			})
			s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Header().Set("Connection", unescape(string(r.Query)))
				io.WriteString(w, "blocking")
			}))
			s.Handle("/nethttp/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", unescape(r.URL.RawQuery))
				io.WriteString(w, "nethttp")
			})))
		})
		for _, path := range []string{"/plain", "/blocking", "/nethttp/"} {
			for _, v := range []string{"close", "Close", "CLOSE", "x-foo,%20Close"} {
				t.Run(strings.Trim(path, "/")+"/"+v, func(t *testing.T) {
					c := dialRaw(t, s)
					_, err := fmt.Fprintf(c, "GET %s?%s HTTP/1.1\r\nHost: x\r\n\r\n", path, v)
					require.NoError(t, err)
					resp, body := c.read(t, "GET")
					assert.Equal(t, 200, resp.StatusCode)
					assert.Equal(t, strings.Trim(path, "/"), body)
					assert.True(t, resp.Close, "the response must say the connection closes: %v", resp.Header)
					c.expectEOF(t)
				})
			}
		}
	})
}

// Responses that say "Connection: close" and carry a body arrive whole and
// the connection ends with a FIN, even when the client had sent more that
// the server never reads (a close with unread input would reset): the
// lingering close works with IORING_OP_SHUTDOWN and, where the kernel lacks
// it (5.10) or it is switched off, with shutdown(2).
func TestConnectionCloseBodyIntactNoReset(t *testing.T) {
	big := strings.Repeat("z", 1<<20)
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, m.Cfg, func(s *Server) {
			s.HandleFunc("GET /big", func(w *Response, r *Request) { w.WriteString(big) })
		})
		if m.Engine == EngineIOUring {
			for _, w := range s.eng.(*uringServer).ws {
				assert.Equal(t, !m.Cfg.DisableShutdownOp, w.ShutdownOp(), "IORING_OP_SHUTDOWN in use")
			}
		}
		for i := 0; i < 5; i++ {
			c := dialRaw(t, s)
			// The request, then, once the server has read it, more that
			// it will not read (a close with unread input sends a reset,
			// which can destroy the response's tail in flight).
			_, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond)
			_, err = io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"+strings.Repeat("j", 32<<10))
			require.NoError(t, err)
			time.Sleep(20 * time.Millisecond) // the server sends what fits, then waits for the client
			resp, body := c.read(t, "GET")
			assert.True(t, resp.Close)
			require.Equal(t, len(big), len(body))
			c.expectEOF(t)
		}
	})
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// Connections refused over MaxConnsPerWorker (a 503 send linked to a close,
// without a slot) get their 503 whole, even when the SQ fills up between
// the send and the close, and are closed before the worker exits: none is
// left open after Shutdown, even when Shutdown comes right after them.
func TestRejectedConnectionsClosedByShutdown(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		if m.Engine != EngineIOUring {
			t.Skip("io_uring only: rejected connections closed by the worker's shutdown")
		}
		for round := 0; round < 5; round++ {
			before := openFDs(t)
			cfg := m.Cfg
			cfg.Addr, cfg.Engine, cfg.Workers, cfg.MaxConnsPerWorker = "127.0.0.1:0", m.Engine, 1, 1
			cfg.RingEntries = 8 // a small SQ: the 503 pairs meet full-SQ flushes
			s, err := New(cfg)
			require.NoError(t, err)
			s.HandleFunc("GET /{$}", func(w *Response, r *Request) { w.WriteString("hi") })
			require.NoError(t, s.Start())
			held := dialRaw(t, s)
			io.WriteString(held, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			held.read(t, "GET")
			var clients []net.Conn
			for i := 0; i < 64; i++ {
				c, err := net.Dial("tcp", s.Addr().String())
				require.NoError(t, err)
				clients = append(clients, c)
			}
			// All refused (and their 503s maybe still in flight), then
			// Shutdown.
			require.Eventually(t, func() bool { return s.Stats().Total.Rejected == uint64(len(clients)) },
				10*time.Second, time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			require.NoError(t, s.Shutdown(ctx))
			cancel()
			// Every refused client got its 503 and then EOF (or, the
			// listener closed first, a reset: never a hang).
			for _, c := range clients {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				got, err := io.ReadAll(c)
				assert.NoError(t, err)
				assert.Contains(t, string(got), "503 Service Unavailable")
				c.Close()
			}
			held.Close()
			assert.Equal(t, before, openFDs(t), "file descriptors left open after Shutdown")
		}
	})
}

// A detached connection stops being read once detachReadMax bytes of
// pipelined input wait (its multishot recv is cancelled): one cancel, not
// one per completion that arrives before the cancel lands.
func TestDetachedInputStopsReadingWithOneCancel(t *testing.T) {
	release := make(chan struct{})
	s := startEngine(t, fastPath, Config{RecvBufferSize: 4096}, func(s *Server) {
		s.Handle("GET /hold", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
			<-release
			io.WriteString(w, "held")
		}))
		s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
	})
	if !s.Features().Has(uring.FeatMultishotRecv) {
		t.Skip("the kernel has no multishot recv: a single-shot recv is just not re-armed")
	}
	c := dialRaw(t, s)
	_, err := io.WriteString(c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	const n = 400 // about 400 KiB behind the held request
	pipelined := "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 1000) + "\r\n\r\n"
	go func() {
		for i := 0; i < n; i++ {
			if _, err := io.WriteString(c, pipelined); err != nil {
				return
			}
		}
	}()
	// The worker reads until detachReadMax waits, then stops.
	require.Eventually(t, func() bool { return s.Stats().Total.BytesIn >= 64<<10 }, 10*time.Second, time.Millisecond)
	time.Sleep(200 * time.Millisecond) // completions already under way come in
	cancels := s.Stats().Total.Cancels
	close(release)
	_, body := c.read(t, "GET")
	require.Equal(t, "held", body)
	for i := 0; i < n; i++ {
		_, body = c.read(t, "GET")
		require.Equal(t, "hello", body)
	}
	// One cancel stops the recv; a second is legitimate only if the first
	// found the multishot mid-completion (rare).
	t.Logf("cancels: %d", cancels)
	assert.LessOrEqual(t, cancels, uint64(2), "cancels while the detached connection's input was full")
}

package uringd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// startEngine starts a server on 127.0.0.1:0 in mode m (see TestModes) with
// the routes setup registers, through StartTestServer.
func startEngine(t *testing.T, m TestMode, cfg Config, setup func(s *Server)) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	m.Apply(&cfg)
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	return StartTestServer(t, cfg, setup)
}

// rawConn is a client speaking HTTP/1.1 by hand, reading responses with
// net/http's parser.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// read reads one response to a request with method, and its whole body.
func (c *rawConn) read(t *testing.T, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp, string(b)
}

func TestBlockingPipelinedOrder(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.HandleFunc("GET /fast", func(w *Response, r *Request) { w.WriteString("fast") })
			s.Handle("GET /slow", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				time.Sleep(20 * time.Millisecond)
				fmt.Fprintf(w, "slow %s", r.Query)
			}))
		})
		c := dialRaw(t, s)
		// A slow blocking request, then fast and slow ones pipelined
		// behind it: answers come back in request order.
		req := "GET /slow?a HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /slow?b HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
		_, err := c.Write([]byte(req))
		require.NoError(t, err)
		for _, want := range []string{"slow a", "fast", "slow b", "fast"} {
			resp, body := c.read(t, "GET")
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, want, body)
			if strings.HasPrefix(want, "slow") {
				assert.Equal(t, int64(len(want)), resp.ContentLength)
				assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			}
		}
	})
}

func TestBlockingStreamingBackpressure(t *testing.T) {
	const chunk, n = 64 << 10, 64 // 4 MiB through a 64 KiB pending limit
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{MaxPendingOutput: 64 << 10}, func(s *Server) {
			s.Handle("GET /stream", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				b := []byte(strings.Repeat("x", chunk))
				for i := 0; i < n; i++ {
					if _, err := w.Write(b); err != nil {
						return
					}
					w.Flush()
				}
			}))
			s.HandleFunc("GET /after", func(w *Response, r *Request) { w.WriteString("after") })
		})
		c := dialRaw(t, s)
		_, err := c.Write([]byte("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		resp, body := c.read(t, "GET")
		assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
		assert.Equal(t, chunk*n, len(body))
		_, body = c.read(t, "GET")
		assert.Equal(t, "after", body)
	})
}

func TestBlockingClientGoneCancelsContext(t *testing.T) {
	// io_uring: the worker keeps reading a detached connection and sees the
	// EOF; netpoll: a background read does (as net/http's does).
	ForEachMode(t, func(t *testing.T, e TestMode) {
		started := make(chan struct{})
		cancelled := make(chan struct{})
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.Handle("GET /wait", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				close(started)
				<-ctx.Done()
				close(cancelled)
			}))
		})
		c := dialRaw(t, s)
		_, err := c.Write([]byte("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		<-started
		c.Close()
		select {
		case <-cancelled:
		case <-time.After(10 * time.Second):
			t.Fatal("context not cancelled after the client closed")
		}
	})
}

// Both engines run blocking handlers on the one pool: netpoll used to run
// them on the connection's goroutine, bounded by nothing.
func TestBlockingQueueFull503(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		release := make(chan struct{})
		var once sync.Once
		s := startEngine(t, m, Config{BlockingWorkers: 1, BlockingQueue: 1}, func(s *Server) {
			s.Handle("GET /hold", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				select {
				case <-release:
				case <-ctx.Done():
				}
				w.Write([]byte("done"))
			}))
		})
		defer once.Do(func() { close(release) })
		// One runs, one waits in the queue, the third is refused.
		c1, c2, c3 := dialRaw(t, s), dialRaw(t, s), dialRaw(t, s)
		for _, c := range []*rawConn{c1, c2} {
			_, err := c.Write([]byte("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"))
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool {
			run, q := s.offload.Running()
			return run == 1 && q == 1
		}, 10*time.Second, time.Millisecond)
		_, err := c3.Write([]byte("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		resp, _ := c3.read(t, "GET")
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		once.Do(func() { close(release) })
		for _, c := range []*rawConn{c1, c2} {
			resp, body := c.read(t, "GET")
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "done", body)
		}
	})
}

func TestBlockingPanicAnswers500(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.Handle("GET /panic", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Write([]byte("never sent"))
				panic("test panic")
			}))
			s.HandleFunc("GET /ok", func(w *Response, r *Request) { w.WriteString("ok") })
		})
		c := dialRaw(t, s)
		_, err := c.Write([]byte("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		resp, body := c.read(t, "GET")
		assert.Equal(t, 500, resp.StatusCode)
		assert.True(t, resp.Close)
		assert.Equal(t, "Internal Server Error\n", body)
		c2 := dialRaw(t, s) // the server lives on
		_, err = c2.Write([]byte("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		_, body = c2.read(t, "GET")
		assert.Equal(t, "ok", body)
	})
}

func TestOffloadFromPlainHandler(t *testing.T) {
	slow := BlockingHandlerFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
		w.Header().Set("X-Where", "pool")
		fmt.Fprintf(w, "offloaded %s from %v", r.Query, RemoteAddr(ctx) != "")
	})
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.HandleFunc("GET /maybe", func(w *Response, r *Request) {
				if string(r.Query) == "big" && Offload(w, r, slow) {
					return
				}
				w.WriteString("inline")
			})
		})
		c := dialRaw(t, s)
		_, err := c.Write([]byte("GET /maybe?big HTTP/1.1\r\nHost: x\r\n\r\nGET /maybe?small HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		resp, body := c.read(t, "GET")
		assert.Equal(t, "offloaded big from true", body)
		assert.Equal(t, "pool", resp.Header.Get("X-Where"))
		_, body = c.read(t, "GET")
		assert.Equal(t, "inline", body)
	})
}

func TestGracefulShutdownWaitsForBlockingHandler(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e TestMode) {
		started, release := make(chan struct{}), make(chan struct{})
		cfg := Config{Addr: "127.0.0.1:0", Workers: 1}
		e.Apply(&cfg)
		s, err := New(cfg)
		require.NoError(t, err)
		s.Handle("GET /hold", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
			close(started)
			<-release
			w.Write([]byte("finished"))
		}))
		require.NoError(t, s.Start())
		c := dialRaw(t, s)
		_, err = c.Write([]byte("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		<-started
		shut := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			shut <- s.Shutdown(ctx)
		}()
		close(release)
		resp, body := c.read(t, "GET")
		assert.Equal(t, "finished", body)
		assert.Equal(t, 200, resp.StatusCode)
		require.NoError(t, <-shut)
		assert.ErrorIs(t, s.Wait(), ErrServerClosed)
	})
}

func TestEngineAutoUsesIOUringHere(t *testing.T) {
	assert.True(t, uringUnavailable(fmt.Errorf("setup: %w", &uring.SetupError{Op: "io_uring_setup", Errno: unix.EPERM})))
	assert.True(t, uringUnavailable(unix.ENOSYS))
	assert.False(t, uringUnavailable(unix.EADDRINUSE))
	SkipWithoutIOUring(t, EngineIOUring)
	s := startEngine(t, TestMode{Name: "auto", Engine: EngineAuto}, Config{}, func(s *Server) {})
	assert.Equal(t, EngineIOUring, s.Engine())
}

// Many connections, each a stream of blocking requests answered after a
// random short wait, some flushed in pieces: every answer must arrive (a lost
// wakeup of the worker would leave a connection waiting forever; the
// deadline turns that into a failure instead of a hang).
func TestBlockingManyConnectionsNoLostWakeups(t *testing.T) {
	const conns, perConn = 32, 100
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{Workers: 2, BlockingWorkers: 8}, func(s *Server) {
			s.Handle("GET /r", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				n := len(r.Query) % 3
				time.Sleep(time.Duration(n) * 50 * time.Microsecond)
				w.Write([]byte("part1;"))
				if n == 1 {
					w.Flush()
				}
				w.Write(r.Query)
			}))
		})
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				br := bufio.NewReader(c)
				for j := 0; j < perConn; j++ {
					q := strings.Repeat("q", j%7)
					if _, err := fmt.Fprintf(c, "GET /r?%s HTTP/1.1\r\nHost: x\r\n\r\n", q); err != nil {
						errs <- err
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						errs <- fmt.Errorf("request %d: %w", j, err)
						return
					}
					b, err := io.ReadAll(resp.Body)
					if err != nil || string(b) != "part1;"+q {
						errs <- fmt.Errorf("request %d: body %q, %v", j, b, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestBlockingWriteAfterReturnFails(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		late := make(chan error, 1)
		s := startEngine(t, m, Config{}, func(s *Server) {
			s.Handle("GET /leak", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Write([]byte("on time"))
				go func() {
					time.Sleep(10 * time.Millisecond)
					w.Flush()
					w.WriteHeader(500)
					_, err := w.Write([]byte("late")) // a bug in the handler: must not crash the server
					late <- err
				}()
			}))
		})
		c := dialRaw(t, s)
		_, err := c.Write([]byte("GET /leak HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		_, body := c.read(t, "GET")
		assert.Equal(t, "on time", body)
		assert.Error(t, <-late)
	})
}

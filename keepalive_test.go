package uringd_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/uring"
)

func TestHelloKeepAlive(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := newClient(t, 1)
		for i := 0; i < 10; i++ {
			code, body, h := get(t, c, baseURL(s)+"/")
			require.Equal(t, 200, code)
			require.Equal(t, "Hello, World!", body)
			require.Equal(t, "text/plain", h.Get("Content-Type"))
			require.NotEmpty(t, h.Get("Date"))
		}
		assert.Equal(t, uint64(1), s.Stats().Total.Accepted, "10 requests, one connection")
		if cfg.Engine == uringd.EngineIOUring {
			f := s.Features()
			probe, err := uring.Probe()
			require.NoError(t, err)
			want := probe.Features.Has(uring.FeatMultishotRecv) && !cfg.DisableMultishot
			assert.Equal(t, want, f.Has(uring.FeatMultishotRecv), "multishot recv in use: %v", f)
			want = probe.Features.Has(uring.FeatBufRing) && !cfg.DisableBufRing
			assert.Equal(t, want, f.Has(uring.FeatBufRing), "buffer ring in use: %v", f)
		}
	})
}

// The two mixed configurations (one fallback forced, not the other) get a
// short smoke test: pipelining, an upload, reuse.
func TestMixedFallbacks(t *testing.T) {
	for _, m := range []uringd.TestMode{
		{Name: "multishot+provided_buffers", Cfg: uringd.Config{DisableBufRing: true}},
		{Name: "singleshot+bufring", Cfg: uringd.Config{DisableMultishot: true}},
	} {
		t.Run(m.Name, func(t *testing.T) {
			cfg := testConfig(m)
			cfg.Logger = testLogger(t)
			s := startServer(t, cfg)
			c := dial(t, s)
			body := strings.Repeat("z", 100<<10)
			c.send(strings.Repeat(helloReq, 10) + fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
			for i := 0; i < 10; i++ {
				_, got := c.response("GET")
				require.Equal(t, "Hello, World!", got)
			}
			_, got := c.response("POST")
			require.Equal(t, body, got)
			assert.Zero(t, s.Stats().Total.StaleCQEs)
		})
	}
}

func TestThousandRequestsOneConnection(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		for i := 0; i < 1000; i++ {
			c.send(helloReq)
			resp, body := c.response("GET")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, "Hello, World!", body)
		}
	})
}

func TestTwoHundredConcurrentClients(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := newClient(t, 200)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 5; j++ {
					body := fmt.Sprintf("client %d request %d", i, j)
					resp, err := c.Post(baseURL(s)+"/echo", "text/plain", strings.NewReader(body))
					if err != nil {
						errs <- err
						return
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || string(b) != body {
						errs <- fmt.Errorf("got %q, %v; want %q", b, err, body)
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
		assert.Zero(t, s.Stats().Total.StaleCQEs, "slots are reused only with no op in flight")
	})
}

func TestPipelining(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		for _, n := range []int{1, 16, 100} {
			t.Run(fmt.Sprintf("depth=%d", n), func(t *testing.T) {
				c := dial(t, s)
				var req strings.Builder
				for i := 0; i < n; i++ {
					if i%2 == 0 {
						req.WriteString(helloReq)
					} else {
						fmt.Fprintf(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%d", len(strconv.Itoa(i)), i)
					}
				}
				c.send(req.String()) // one write
				for i := 0; i < n; i++ {
					method, want := "GET", "Hello, World!"
					if i%2 == 1 {
						method, want = "POST", strconv.Itoa(i)
					}
					resp, body := c.response(method)
					require.Equal(t, 200, resp.StatusCode)
					require.Equal(t, want, body, "response %d", i)
				}
			})
		}
	})
}

func TestDribbleByteByByte(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		req := "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
		for i := 0; i < 2; i++ { // twice: the second on a reused connection
			for j := 0; j < len(req); j++ {
				c.send(req[j : j+1])
				if j%8 == 0 {
					time.Sleep(time.Millisecond) // let some bytes arrive alone
				}
			}
			resp, body := c.response("POST")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, "hello world", body)
		}
	})
}

func TestRequestSplitAtEveryPosition(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		req := "POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\nX-A: b\r\n\r\nhello world"
		for i := 1; i < len(req); i++ {
			c.send(req[:i])
			time.Sleep(200 * time.Microsecond)
			c.send(req[i:])
			resp, body := c.response("POST")
			require.Equal(t, 200, resp.StatusCode, "split at %d", i)
			require.Equal(t, "hello world", body, "split at %d", i)
		}
	})
}

func TestEchoUploads(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := newClient(t, 1)
		for _, size := range []int{0, 1, 4095, 4096, 100 << 10, 1 << 20} {
			body := bytes.Repeat([]byte("x"), size)
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			t.Run(fmt.Sprintf("content-length/size=%d", size), func(t *testing.T) {
				resp, err := c.Post(baseURL(s)+"/echo", "application/octet-stream", bytes.NewReader(body))
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, 200, resp.StatusCode)
				require.True(t, bytes.Equal(body, got), "echo of %d bytes differs (got %d)", size, len(got))
			})
			t.Run(fmt.Sprintf("chunked/size=%d", size), func(t *testing.T) {
				pr, pw := io.Pipe()
				go func() {
					for off := 0; off < len(body); off += 7777 {
						pw.Write(body[off:min(off+7777, len(body))])
					}
					pw.Close()
				}()
				req, _ := http.NewRequest("POST", baseURL(s)+"/echo", pr)
				resp, err := c.Do(req)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.True(t, bytes.Equal(body, got), "echo of %d bytes differs (got %d)", size, len(got))
			})
		}
	})
}

func TestHead(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + helloReq)
		resp, body := c.response("HEAD")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, int64(13), resp.ContentLength)
		require.Empty(t, body)
		_, body = c.response("GET") // the HEAD response had no body bytes
		require.Equal(t, "Hello, World!", body)
	})
}

func TestHTTP10(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		t.Run("without_keep-alive", func(t *testing.T) {
			c := dial(t, s)
			c.send("GET / HTTP/1.0\r\n\r\n")
			resp, body := c.response("GET")
			require.Equal(t, "Hello, World!", body)
			require.True(t, resp.Close)
			c.expectClosed()
		})
		t.Run("with_keep-alive", func(t *testing.T) {
			c := dial(t, s)
			for i := 0; i < 3; i++ {
				c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
				resp, body := c.response("GET")
				require.Equal(t, "Hello, World!", body)
				require.Equal(t, "keep-alive", resp.Header.Get("Connection"))
			}
		})
	})
}

func TestExpectContinue(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		line, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
		line, err = c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "\r\n", line)
		c.send("hello")
		resp, body := c.response("POST")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "hello", body)
		// And with net/http's client, which waits for the 100.
		cl := newClient(t, 1)
		req, _ := http.NewRequest("POST", baseURL(startServer(t, cfg))+"/echo", strings.NewReader("world"))
		req.Header.Set("Expect", "100-continue")
		r2, err := cl.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(r2.Body)
		r2.Body.Close()
		require.Equal(t, "world", string(b))
	})
}

func TestAbruptResetsThenNormalService(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		for i := 0; i < 50; i++ {
			c, err := net.Dial("tcp", s.Addr().String())
			require.NoError(t, err)
			switch i % 3 {
			case 0:
				io.WriteString(c, "GET / HTTP/1.1\r\nHo") // half a request
			case 1:
				io.WriteString(c, strings.Repeat(helloReq, 50)) // responses never read
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}
		c := newClient(t, 4)
		for i := 0; i < 20; i++ {
			code, body, _ := get(t, c, baseURL(s)+"/")
			require.Equal(t, 200, code)
			require.Equal(t, "Hello, World!", body)
		}
		require.Eventually(t, func() bool { return s.Stats().Total.Open <= 4 }, 5*time.Second, 10*time.Millisecond,
			"reset connections are closed")
	})
}

func TestHandlerPanicAnswers500AndNextRequestServed(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n" + helloReq + "GET /panic-big HTTP/1.1\r\nHost: x\r\n\r\n" + helloReq)
		for i := 0; i < 2; i++ {
			resp, body := c.response("GET")
			require.Equal(t, 500, resp.StatusCode)
			require.NotContains(t, body, "partial output")
			require.Less(t, len(body), 100)
			resp, body = c.response("GET")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, "Hello, World!", body)
		}
		assert.Equal(t, uint64(2), s.Stats().Total.Panics)
	})
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := newClient(t, 1)
		code, body, h := get(t, c, baseURL(s)+"/nope")
		assert.Equal(t, 404, code)
		assert.Equal(t, "404 page not found\n", body)
		assert.NotEmpty(t, h.Get("Date"))

		resp, err := c.Post(baseURL(s)+"/", "text/plain", strings.NewReader("x"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 405, resp.StatusCode)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))

		code, body, _ = get(t, c, baseURL(s)+"/files/a/b.txt") // subtree route
		assert.Equal(t, 200, code)
		assert.Equal(t, "file:/files/a/b.txt", body)
		req, _ := http.NewRequest("DELETE", baseURL(s)+"/files/exact", nil)
		resp, err = c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 405, resp.StatusCode)
		// Every pattern that matches the path counts, as in ServeMux: "PUT
		// /files/exact" and the "GET /files/" subtree (which serves a GET).
		assert.Equal(t, "GET, HEAD, PUT", resp.Header.Get("Allow"))
	})
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		// Connections with half-sent requests, and one idle keep-alive.
		var conns []*rawConn
		for i := 0; i < 20; i++ {
			c := dial(t, s)
			c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
			conns = append(conns, c)
		}
		idle := dial(t, s)
		idle.send(helloReq)
		idle.response("GET")
		require.Eventually(t, func() bool { return s.Stats().Total.BytesIn >= 20*57 }, 5*time.Second, time.Millisecond)

		done := make(chan error, 1)
		go func() { done <- s.Shutdown(context.Background()) }()
		idle.expectClosed()
		require.Eventually(t, func() bool { // new clients are refused while in-flight requests finish
			c, err := net.Dial("tcp", s.Addr().String())
			if err == nil {
				c.Close()
			}
			return err != nil
		}, 5*time.Second, 5*time.Millisecond)
		for _, c := range conns {
			c.send("world")
		}
		for i, c := range conns {
			resp, body := c.response("POST")
			require.Equal(t, 200, resp.StatusCode, "conn %d", i)
			require.Equal(t, "helloworld", body, "conn %d", i)
			require.True(t, resp.Close, "the last response says Connection: close")
			c.expectClosed()
		}
		require.NoError(t, <-done)
		require.ErrorIs(t, s.Wait(), uringd.ErrServerClosed)
		_, err = net.Dial("tcp", s.Addr().String())
		require.Error(t, err, "listener closed")
	})
}

func TestShutdownDeadlineForcesClose(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		c := dial(t, s)
		c.send("GET / HTTP/1.1\r\n") // never finished
		require.Eventually(t, func() bool { return s.Stats().Total.BytesIn > 0 }, 5*time.Second, time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, s.Shutdown(ctx), context.DeadlineExceeded)
		c.expectClosed()
		require.ErrorIs(t, s.Wait(), uringd.ErrServerClosed)
	})
}

// Tiny resources force the rare paths: a full SQ is flushed mid-turn, the CQ
// overflows (entered again with GETEVENTS), and recv runs out of buffers
// (ENOBUFS, re-armed once buffers are recycled). Service must not notice.
func TestTinyRingAndFewBuffers(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		cfg.RingEntries = 8
		cfg.RecvBuffers = 2
		cfg.RecvBufferSize = 512
		cfg.IdleTimeout, cfg.HeaderTimeout = 10*time.Second, 10*time.Second // starved by design, not idle
		s := startServer(t, cfg)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				req := strings.Repeat(helloReq, 20)
				want := 20 * len("Hello, World!")
				for round := 0; round < 5; round++ {
					if _, err := io.WriteString(c, req); err != nil {
						errs <- err
						return
					}
					got, err := readHellos(c, 20)
					if err != nil || got != want {
						errs <- fmt.Errorf("round %d: %d body bytes, %v", round, got, err)
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
		st := s.Stats().Total
		t.Logf("ENOBUFS %d, CQ overflows %d, loops %d, requests %d", st.NoBufs, st.CQOverflows, st.Loops, st.Requests)
		if t.Failed() {
			t.Logf("server stats: %+v", st)
		}
		assert.Equal(t, uint64(64*100), st.Requests)
	})
}

// readHellos reads n pipelined hello responses and returns their body bytes.
func readHellos(c net.Conn, n int) (int, error) {
	br := bufio.NewReader(c)
	total := 0
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return total, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return total, err
		}
		total += len(b)
	}
	if br.Buffered() != 0 {
		return total, fmt.Errorf("%d unexpected bytes after the responses", br.Buffered())
	}
	return total, nil
}

// Clients hammer the server through net/http while it shuts down: every
// request the server read was answered and the answer arrived (server
// request count == client success count); clients only see errors once the
// listener is gone.
func TestGracefulShutdownUnderLoadLosesNoRequest(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		c := newClient(t, 16)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					resp, err := c.Post(baseURL(s)+"/echo", "text/plain", strings.NewReader("ping"))
					if err != nil {
						return
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || string(b) != "ping" {
						t.Errorf("broken response %q: %v", b, err)
						return
					}
					ok.Add(1)
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, s.Shutdown(context.Background()))
		wg.Wait()
		require.Equal(t, int64(s.Stats().Total.Requests), ok.Load(), "answered == received")
		require.NotZero(t, ok.Load())
	})
}

// A client that sends its requests and then shuts down its write side
// (half-close, as `nc -N` or some HTTP/1.0 clients do) still gets every
// response, including one that says Connection: close.
func TestClientHalfCloseStillGetsResponses(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		for _, tc := range []struct{ name, req string }{
			{"keep-alive_pipelined", helloReq + helloReq},
			{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n"},
			{"connection_close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s)
				c.send(tc.req)
				require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
				n := strings.Count(tc.req, "\r\n\r\n")
				for i := 0; i < n; i++ {
					_, body := c.response("GET")
					require.Equal(t, "Hello, World!", body)
				}
				c.expectClosed()
			})
		}
	})
}

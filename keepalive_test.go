package uringd_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

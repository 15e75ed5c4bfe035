package uringd

import (
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
)

// slowCfg is a configuration with small read limits, so that a trickling
// client meets them in well under a second.
func slowCfg(base Config) Config {
	base.HeaderTimeout = 500 * time.Millisecond
	base.BodyTimeout = 2 * time.Second // per read: a trickle never meets it
	base.MinBodyRate = 100             // bytes/s
	base.MinBodyRateGrace = 300 * time.Millisecond
	base.RequestReadTimeout = 1500 * time.Millisecond
	base.Tick = 10 * time.Millisecond
	return base
}

func slowRoutes(s *Server) {
	s.HandleFunc("POST /plain", func(w *Response, r *Request) { fmt.Fprintf(w, "%d", len(r.Body)) })
	s.Handle("/up", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d %v", n, err)
	})))
	s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
}

// trickle writes head, then one byte of fill every gap until the server
// closes the connection or limit passes; it reports whether the server
// closed it (and how long that took).
func trickle(t *testing.T, s *Server, head string, gap, limit time.Duration) (closed bool, after time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	gone := make(chan struct{})
	go func() { // the server's close shows as EOF (or a reset) on the read side
		defer close(gone)
		_ = c.SetReadDeadline(start.Add(limit + time.Second))
		_, _ = io.Copy(io.Discard, c)
	}()
	if _, err := io.WriteString(c, head); err != nil {
		return true, time.Since(start)
	}
	tk := time.NewTicker(gap)
	defer tk.Stop()
	for time.Since(start) < limit {
		select {
		case <-gone:
			return true, time.Since(start)
		case <-tk.C:
			if _, err := c.Write([]byte{'a'}); err != nil {
				<-gone
				return true, time.Since(start)
			}
		}
	}
	return false, time.Since(start)
}

// A body trickled at 10 bytes/s, below MinBodyRate, is cut once the grace
// period is over, though each byte comes well within BodyTimeout; both for
// a body a plain handler gets whole and for a streamed one.
func TestTrickledBodyMeetsMinRate(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, path := range []string{"/plain", "/up"} {
			t.Run(path[1:], func(t *testing.T) {
				cfg := slowCfg(m.Cfg)
				cfg.RequestReadTimeout = time.Hour // the rate alone decides
				s := startEngine(t, m, cfg, slowRoutes)
				closed, after := trickle(t, s, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
					100*time.Millisecond, 10*time.Second)
				assert.True(t, closed, "a 10 bytes/s body kept its connection for %v", after)
			})
		}
	})
}

// A body sent faster than MinBodyRate but taking longer than
// RequestReadTimeout in all is cut.
func TestSlowBodyMeetsRequestReadTimeout(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, path := range []string{"/plain", "/up"} {
			t.Run(path[1:], func(t *testing.T) {
				cfg := slowCfg(m.Cfg)
				cfg.MinBodyRate = 10 // the trickle (50 bytes/s) is fast enough for it
				s := startEngine(t, m, cfg, slowRoutes)
				closed, after := trickle(t, s, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
					20*time.Millisecond, 10*time.Second)
				assert.True(t, closed, "a 50 bytes/s body kept its connection for %v", after)
			})
		}
	})
}

// A head trickled one byte at a time ends within HeaderTimeout of its
// first byte, however steadily the bytes come.
func TestTrickledHeadMeetsHeaderTimeout(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, slowCfg(m.Cfg), slowRoutes)
		closed, after := trickle(t, s, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ",
			20*time.Millisecond, 10*time.Second)
		assert.True(t, closed, "a trickled head kept its connection for %v", after)
	})
}

// A body whose rate is fine gets through: the limits cut only slow clients.
func TestBodyAboveMinRateIsServed(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, path := range []string{"/plain", "/up"} {
			t.Run(path[1:], func(t *testing.T) {
				cfg := slowCfg(m.Cfg)
				cfg.RequestReadTimeout = time.Hour
				s := startEngine(t, m, cfg, slowRoutes)
				c := dialRaw(t, s)
				// 400 bytes/s, four times MinBodyRate, for about 1.5 s: past
				// the grace and the per-read timeout is never the issue.
				_, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n")
				require.NoError(t, err)
				for i := 0; i < 30; i++ {
					time.Sleep(50 * time.Millisecond)
					_, err = io.WriteString(c, strings.Repeat("b", 20))
					require.NoError(t, err)
				}
				resp, got := c.read(t, "POST")
				assert.Equal(t, 200, resp.StatusCode)
				assert.True(t, strings.HasPrefix(got, "600"), got)
			})
		}
	})
}

// While 40 clients trickle heads and bodies, an ordinary request on a new
// connection is answered, and every trickler is cut.
func TestOrdinaryRequestDuringTrickleAttack(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, slowCfg(m.Cfg), slowRoutes)
		var wg sync.WaitGroup
		var mu sync.Mutex
		kept := 0
		for i := 0; i < 40; i++ {
			head := "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: "
			if i%2 == 1 {
				head = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if closed, _ := trickle(t, s, head, 100*time.Millisecond, 10*time.Second); !closed {
					mu.Lock()
					kept++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(100 * time.Millisecond) // the tricklers are connected
		cl := &http.Client{Timeout: 5 * time.Second}
		resp, err := cl.Get("http://" + s.Addr().String() + "/hello")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "hello", string(b))
		wg.Wait()
		assert.Zero(t, kept, "tricklers that kept their connection")
	})
}

// A handler that takes its streamed body slowly (the window fills and the
// server stops reading) is not a slow client: the time the server does not
// read is not counted against the body's rate or the request's time.
func TestSlowStreamReaderIsNotASlowClient(t *testing.T) {
	const size = 2 << 20
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, slowCfg(m.Cfg), func(s *Server) {
			s.Handle("/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := make([]byte, 64<<10)
				n := 0
				for i := 0; ; i++ {
					if i%8 == 0 {
						time.Sleep(400 * time.Millisecond) // 2s in all: past RequestReadTimeout
					}
					k, err := r.Body.Read(p)
					n += k
					if err != nil {
						fmt.Fprintf(w, "%d %v", n, err)
						return
					}
				}
			})))
		})
		c := dialRaw(t, s)
		go func() {
			_, _ = io.WriteString(c, fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size))
			_, _ = c.Write(make([]byte, size))
		}()
		resp, got := c.read(t, "POST")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, fmt.Sprintf("%d EOF", size), got)
	})
}

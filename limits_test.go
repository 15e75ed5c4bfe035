package uringd_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// Limits, timeouts and bad input: each gets its status (or a close) and the
// worker goes on.

func TestOversizedRequests(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxHeaderBytes = 1024
		cfg.MaxURI = 256
		cfg.MaxBody = 1000
		s := startServer(t, cfg)
		cases := []struct {
			name   string
			req    string
			status int
		}{
			{"header_too_large=431", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\n\r\n", 431},
			{"uri_too_long=414", "GET /" + strings.Repeat("u", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
			{"content-length_too_large=413", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413},
			{"chunked_too_large=413", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" + strings.Repeat("b", 1001) + "\r\n0\r\n\r\n", 413},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s)
				c.send(tc.req)
				resp, _ := c.response("GET")
				require.Equal(t, tc.status, resp.StatusCode)
				require.True(t, resp.Close)
				c.expectClosed()
			})
		}
	})
}

func TestBackpressureLargeResponsesPipelined(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxPendingOutput = 64 << 10
		s := startServer(t, cfg)
		c := dial(t, s)
		const n = 64 // 4 MiB of responses; the client reads only after writing all
		go func() {
			io.WriteString(c.Conn, strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", n))
		}()
		time.Sleep(100 * time.Millisecond)
		for i := 0; i < n; i++ {
			resp, body := c.response("GET")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, len(bigBody), len(body), "response %d", i)
			require.True(t, string(bigBody) == body, "response %d", i)
		}
		assert.NotZero(t, s.Stats().Total.Paused, "reading was paused")
	})
}

func TestOverConnectionLimitGets503(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		cfg.MaxConnsPerWorker = 2
		s := startServer(t, cfg)
		a, b := dial(t, s), dial(t, s)
		a.send(helloReq)
		a.response("GET")
		b.send(helloReq)
		b.response("GET")
		c := dial(t, s)
		resp, _ := c.response("GET")
		assert.Equal(t, 503, resp.StatusCode)
		c.expectClosed()
		assert.Equal(t, uint64(1), s.Stats().Total.Rejected)
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

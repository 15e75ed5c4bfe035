package uringd_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// Limits, timeouts and bad input: each gets its status (or a close) and the
// worker goes on.

func TestMalformedRequestGets400AndClose(t *testing.T) {
	bad := map[string]string{
		"garbage":            "HELLO\r\n\r\n",
		"bare_LF":            "GET / HTTP/1.1\nHost: x\n\n",
		"CL_and_TE":          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"bad_chunk_size":     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"space_before_colon": "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"no_host":            "GET / HTTP/1.1\r\n\r\n",
	}
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		for name, req := range bad {
			t.Run(name, func(t *testing.T) {
				c := dial(t, s)
				c.send(helloReq + req + helloReq) // good, bad, never read
				_, body := c.response("GET")
				require.Equal(t, "Hello, World!", body)
				resp, _ := c.response("GET")
				require.Equal(t, 400, resp.StatusCode)
				require.True(t, resp.Close, "Connection: close")
				c.expectClosed()
			})
		}
	})
}

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

func TestSlowlorisClosedByHeaderTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.HeaderTimeout = 200 * time.Millisecond
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send("GET / HTTP/1.1\r\n")
		for i := 0; i < 4; i++ { // keeps sending, but never finishes the head
			time.Sleep(100 * time.Millisecond)
			c.Write([]byte("X-A: b\r\n"))
		}
		c.expectClosed()
		assert.Equal(t, uint64(1), s.Stats().Total.TimeoutHead)
	})
}

func TestIdleConnectionClosed(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.IdleTimeout = 150 * time.Millisecond
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send(helloReq)
		_, body := c.response("GET")
		require.Equal(t, "Hello, World!", body)
		start := time.Now()
		c.expectClosed()
		assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
		assert.Equal(t, uint64(1), s.Stats().Total.TimeoutIdle)
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

func TestBodyTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.HeaderTimeout = 10 * time.Second
		cfg.BodyTimeout = 150 * time.Millisecond
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
		c.expectClosed()
		assert.Equal(t, uint64(1), s.Stats().Total.TimeoutBody)
	})
}

func TestWriteTimeoutClosesNonReadingClient(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.WriteTimeout = 200 * time.Millisecond
		s := startServer(t, cfg)
		c := dial(t, s)
		require.NoError(t, c.Conn.(*net.TCPConn).SetReadBuffer(4096))
		// 4 MiB of responses that are never read: the send stalls.
		go io.WriteString(c.Conn, strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 64))
		require.Eventually(t, func() bool { return s.Stats().Total.TimeoutWrite == 1 }, 5*time.Second, 10*time.Millisecond)
		require.Eventually(t, func() bool { return s.Stats().Total.Open == 0 }, 5*time.Second, 10*time.Millisecond)
	})
}

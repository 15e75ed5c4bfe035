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

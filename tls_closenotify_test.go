package uringd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// closeNotified reads the server's records until it closes the TCP
// connection and reports whether a close_notify came first. A crypto/tls
// client cannot tell: it reports a TCP EOF on a record boundary as io.EOF
// too. The records' plaintext is in c.plain.
func (c *tlsClient) closeNotified(t *testing.T) bool {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	c.plain = c.plain[:0]
	for {
		m, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
		c.in = c.in[:len(c.in)+m]
		off := 0
		for {
			data, n, oerr := c.rec.Open(c.in[off:])
			if oerr == io.EOF {
				return true
			}
			require.NoError(t, oerr, "a record the server sent does not open")
			if n == 0 {
				break
			}
			c.plain = append(c.plain, data...)
			off += n
		}
		c.in = c.in[:copy(c.in, c.in[off:])]
		if err != nil {
			require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server did not close the connection")
			return false
		}
	}
}

// TestTLSCloseNotifyOnServerCloses: whenever the server closes a TLS 1.3
// connection after its handshake (the idle timeout, a graceful shutdown,
// a client's Connection: close or close_notify), a close_notify precedes
// the TCP close, as RFC 8446 section 6.1 requires; without it a client
// cannot tell the close from a truncation attack.
func TestTLSCloseNotifyOnServerCloses(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.TLS = tlsServerConfig(t)
		cfg.TLS.SessionTicketsDisabled = true // newTLSClient
		t.Run("idle_timeout", func(t *testing.T) {
			cfg := cfg
			cfg.IdleTimeout = 200 * time.Millisecond
			s := startTLSServer(t, cfg, nil)
			c := newTLSClient(t, s, helloReq, "Hello, World!")
			c.roundTrip(t)
			require.True(t, c.closeNotified(t), "no close_notify before the idle timeout's close")
			require.Eventually(t, func() bool { return s.Stats().Total.TimeoutIdle == 1 }, 10*time.Second, 5*time.Millisecond)
		})
		t.Run("graceful_shutdown", func(t *testing.T) {
			s := startTLSServer(t, cfg, nil)
			c := newTLSClient(t, s, helloReq, "Hello, World!")
			c.roundTrip(t)
			done := make(chan error, 1)
			go func() { done <- s.Shutdown(context.Background()) }()
			require.True(t, c.closeNotified(t), "no close_notify before the shutdown's close of an idle connection")
			require.NoError(t, <-done)
		})
		t.Run("client_close_notify", func(t *testing.T) {
			s := startTLSServer(t, cfg, nil)
			c := newTLSClient(t, s, helloReq, "Hello, World!")
			c.roundTrip(t)
			w := c.rec.AppendCloseNotify(nil)
			_, err := c.nc.Write(w)
			require.NoError(t, err)
			require.True(t, c.closeNotified(t), "no close_notify in answer to the client's")
		})
		t.Run("connection_close", func(t *testing.T) {
			s := startTLSServer(t, cfg, nil)
			c := newTLSClient(t, s, "", "")
			w, err := c.rec.Seal(nil, []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
			require.NoError(t, err)
			_, err = c.nc.Write(w)
			require.NoError(t, err)
			require.True(t, c.closeNotified(t), "no close_notify after the last response")
			require.True(t, bytes.HasSuffix(c.plain, []byte("\r\n\r\nHello, World!")), "%q", c.plain)
		})
	})
}

package uringd_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// A graceful shutdown answers the first request of a connection accepted
// just before it (with Connection: close) instead of closing the
// connection under it: a client cannot retry a request on a connection
// that never carried one. In a binary upgrade that request would fail for
// nothing (TestRestartUnderLoadThreeUpgrades in cmd/uringd). A connection
// that stays silent is closed after a short hold, and the shutdown ends.
func TestShutdownAnswersFreshConnectionsFirstRequest(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		addr := s.Addr().String()
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		silent, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer silent.Close()
		// Accepted by the worker: a request on a third connection is answered
		// after the worker's accept of the first two.
		code, _, _ := get(t, newClient(t, 1), "http://"+addr+"/")
		require.Equal(t, 200, code)

		done := make(chan error, 1)
		go func() { done <- s.Shutdown(context.Background()) }()
		// The drain has begun once the listener is closed: refused.
		require.Eventually(t, func() bool {
			d, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				d.Close()
			}
			return err != nil
		}, 10*time.Second, time.Millisecond)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, "the fresh connection's first request is answered")
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, "Hello, World!", string(b))
		assert.True(t, resp.Close, "Connection: close: the server is draining")

		if !strings.HasSuffix(t.Name(), "/iouring") && cfg.Engine != uringd.EngineNetpoll {
			silent.Close() // the same drain code as "iouring": spare CI the wait
		} else {
			// Closed engine.FreshHold (5 s) after its accept.
			silent.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = silent.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the silent connection is closed")
		}
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("shutdown did not finish")
		}
	})
}

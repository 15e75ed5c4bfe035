package uringd_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

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

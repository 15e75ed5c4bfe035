package uringd_test

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestConnectBurst opens 4000 connections at once (ten times the bench's
// sweep at -c400) against one worker, then sends a request on every one
// before reading any answer, and checks that every one is accepted and
// answered: a burst must not leave the worker serving nothing (accept not
// re-armed, recvs lost to ENOBUFS, overflowed CQEs never processed).
func TestConnectBurst(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		s := startServer(t, cfg)
		const n = 4000
		conns := make([]net.Conn, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range conns {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", s.Addr().String(), 20*time.Second)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
			}(i)
		}
		wg.Wait()
		defer func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Every connection sends at once, then every one reads its answer.
		for _, c := range conns {
			require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
			_, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			require.NoError(t, err)
		}
		res := make(chan error, n)
		for _, c := range conns {
			go func(c net.Conn) {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = &statusError{resp.StatusCode}
					}
				}
				res <- err
			}(c)
		}
		for range conns {
			require.NoError(t, <-res)
		}
	})
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

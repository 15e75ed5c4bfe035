package uringd_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// Two servers in one process stand in for the old and new binary: the
// second serves the first's sockets (ListenerFiles -> Config.Listeners)
// while clients keep sending; the first shuts down; no request fails, and
// the second still serves on the same address afterwards.
func TestListenerHandoverBetweenServers(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		old, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(old)
		require.NoError(t, old.Start())
		files, err := old.ListenerFiles()
		require.NoError(t, err)
		require.Len(t, files, cfg.Workers)

		c := newClient(t, 8)
		url := baseURL(old)
		var ok, bad atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := c.Get(url + "/")
					if err != nil {
						bad.Add(1)
						t.Errorf("GET: %v", err)
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(b) != "Hello, World!" {
						bad.Add(1)
						t.Errorf("body %q", b)
						return
					}
					ok.Add(1)
				}
			}()
		}

		ncfg := cfg
		ncfg.Addr = "127.0.0.1:1" // ignored: the sockets decide
		ncfg.Listeners = files
		nu, err := uringd.New(ncfg)
		require.NoError(t, err)
		testRoutes(nu)
		require.NoError(t, nu.Start())
		for _, f := range files {
			f.Close() // the new server has its own dups
		}
		assert.Equal(t, old.Addr().String(), nu.Addr().String())
		assert.Equal(t, cfg.Workers, nu.Workers())
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, old.Shutdown(context.Background()))
		_, err = old.ListenerFiles()
		require.Error(t, err, "ListenerFiles once shut down")
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		require.Zero(t, bad.Load())
		require.NotZero(t, nu.Stats().Total.Requests, "the new server took over")
		t.Logf("requests: %d (old %d, new %d)", ok.Load(), old.Stats().Total.Requests, nu.Stats().Total.Requests)
		require.NoError(t, nu.Shutdown(context.Background()))
		// Nobody holds the socket any more: refused.
		_, err = net.DialTimeout("tcp", url[len("http://"):], time.Second)
		require.Error(t, err)
	})
}

// A listener from Go's net package, the way a library user has one: not
// SO_REUSEPORT, and its open file is non-blocking. One worker serves it on
// either engine; two workers cannot (no sibling can join it) and say why.
func TestConfigListenersFromNetListen(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		f, err := ln.(*net.TCPListener).File()
		require.NoError(t, err)
		defer f.Close()

		cfg.Listeners = []*os.File{f}
		_, err = startErr(cfg)
		require.ErrorContains(t, err, "SO_REUSEPORT")

		cfg.Workers = 1
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		defer s.Shutdown(context.Background())
		assert.Equal(t, ln.Addr().String(), s.Addr().String())
		c := newClient(t, 4)
		for i := 0; i < 20; i++ {
			code, body, _ := get(t, c, "http://"+ln.Addr().String()+"/")
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "Hello, World!", body)
		}
		assert.Zero(t, s.Stats().Total.AcceptErrors)
	})
}

func startErr(cfg uringd.Config) (*uringd.Server, error) {
	s, err := uringd.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	s.Shutdown(context.Background())
	return s, nil
}

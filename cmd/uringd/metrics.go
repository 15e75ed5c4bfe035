package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/metrics"
	"golang.org/x/sys/unix"
)

// metricsFlag defines -metrics; everything it turns on is in this file.
func metricsFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics", "", "serve /metrics (Prometheus), /healthz and /readyz on this address, e.g. 127.0.0.1:9090 (default: off)")
}

// metricsServer is the -metrics listener: plain net/http, since a scrape or
// a health check every few seconds is not the hot path. A nil one (no
// -metrics) does nothing.
type metricsServer struct {
	h    *metrics.Handler
	hs   *http.Server
	done chan struct{} // closed by stop
}

// errMetricsAddr marks a malformed -metrics address (a usage error, exit 2,
// where a refused listen is exit 1 as for -addr).
var errMetricsAddr = errors.New("want host:port, e.g. 127.0.0.1:9090")

// metricsExit is the exit code of a -metrics error: 2 for a malformed
// address, 1 for one that cannot be listened on.
func metricsExit(err error) int {
	if errors.Is(err, errMetricsAddr) {
		return 2
	}
	return 1
}

// startMetrics listens on addr (before the server starts, so that a bad
// address stops uringd before it serves anything) and serves the metrics
// of srv; /readyz answers 503 until ready is called.
func startMetrics(addr string, srv *uringd.Server, log *slog.Logger) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%v (%w)", err, errMetricsAddr)
	}
	// SO_REUSEPORT: the successor of a SIGUSR2 upgrade binds the same
	// address while this process still drains (and answers /readyz 503).
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", ta.String())
	if err != nil {
		return nil, err
	}
	m := &metricsServer{h: metrics.New(srv), done: make(chan struct{})}
	m.hs = &http.Server{
		Handler:           m.h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("metrics serving", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	go func() {
		if err := m.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	return m, nil
}

// ready makes /readyz answer 200: the server serves.
func (m *metricsServer) ready() {
	if m != nil {
		m.h.SetReady()
	}
}

// watch returns the channel serve reads signals from: sigs, passed through
// after /readyz turned 503, so that readiness flips before the graceful
// shutdown closes the listeners and a load balancer stops sending first.
func (m *metricsServer) watch(sigs <-chan os.Signal) <-chan os.Signal {
	if m == nil {
		return sigs
	}
	out := make(chan os.Signal, cap(sigs))
	go func() {
		for {
			select {
			case s := <-sigs:
				m.h.Drain()
				select {
				case out <- s:
				case <-m.done:
					return
				}
			case <-m.done:
				return
			}
		}
	}()
	return out
}

// stop closes the metrics listener, once the server has finished: a scrape
// during the drain still sees its last numbers.
func (m *metricsServer) stop() {
	if m == nil {
		return
	}
	close(m.done)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if m.hs.Shutdown(ctx) != nil {
		m.hs.Close()
	}
}

package uringd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/internal/netpoll"
	"github.com/uringd/uringd/uring"
)

// netpollServer is the portable engine: one netpoll.Server (an accept loop,
// a goroutine per connection) per SO_REUSEPORT listener. A netpoll worker is
// such an accept loop, so that Workers, MaxConnsPerWorker and
// MaxBodyBufferPerWorker mean what they mean on io_uring (the kernel spreads
// connections over the listeners; each bounds its own); its connections
// run on any CPU.
type netpollServer struct {
	srvs     []*netpoll.Server
	force    context.CancelFunc // ends the graceful shutdown at once
	forceCtx context.Context
	once     sync.Once
	fin      chan struct{}

	mu     sync.Mutex
	runErr error // an accept loop that stopped on its own
}

// startNetpoll serves with the netpoll engine on n listeners.
func startNetpoll(s *Server, n int) (*netpollServer, *net.TCPAddr, error) {
	fds, addr, err := s.listen(n) // listeners.go: opened, or Config.Listeners
	if err != nil {
		return nil, nil, err
	}
	n = len(fds)
	lns := make([]net.Listener, 0, n)
	for _, fd := range fds {
		f := os.NewFile(uintptr(fd), "listener")
		ln, err := net.FileListener(f) // a dup, put in non-blocking mode
		f.Close()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, nil, fmt.Errorf("uringd: listen on %s: %w", addr, err)
		}
		lns = append(lns, ln)
	}
	np := &netpollServer{fin: make(chan struct{})}
	np.forceCtx, np.force = context.WithCancel(context.Background())
	for _, ln := range lns {
		srv := netpoll.New(s.engineConfig(&s.mux))
		np.srvs = append(np.srvs, srv)
		go np.serve(srv, ln, s.cfg.Logger)
	}
	attrs := []any{"workers", n}
	if c := &s.cfg; c.RingEntries != DefaultRingEntries || c.RecvBuffers != DefaultRecvBuffers ||
		c.RecvBufferSize != DefaultRecvBufferSize || c.DisableMultishot || c.DisableBufRing || c.DisableShutdownOp {
		attrs = append(attrs, "ignored", "ring and receive-buffer settings (io_uring only)")
	}
	// Said once at startup: what -workers means here, and that no thread is pinned.
	s.cfg.Logger.Info("netpoll engine: one accept loop per worker on SO_REUSEPORT listeners, "+
		"a goroutine per connection, no CPU pinning", attrs...)
	return np, addr, nil
}

func (np *netpollServer) serve(srv *netpoll.Server, ln net.Listener, log *slog.Logger) {
	err := srv.Serve(ln)
	if errors.Is(err, engine.ErrServerClosed) {
		return
	}
	log.Error("netpoll: accept loop stopped", "err", err)
	np.mu.Lock()
	if np.runErr == nil {
		np.runErr = err
	}
	np.mu.Unlock()
}

func (np *netpollServer) shutdown(force bool) {
	np.once.Do(func() {
		go func() {
			var wg sync.WaitGroup
			for _, srv := range np.srvs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					srv.Shutdown(np.forceCtx)
				}()
			}
			wg.Wait()
			close(np.fin)
		}()
	})
	if force {
		np.force()
	}
}

func (np *netpollServer) kind() Engine             { return EngineNetpoll }
func (np *netpollServer) workers() int             { return len(np.srvs) }
func (np *netpollServer) features() uring.Features { return 0 }
func (np *netpollServer) done() <-chan struct{}    { return np.fin }

func (np *netpollServer) err() error {
	np.mu.Lock()
	defer np.mu.Unlock()
	return np.runErr
}

func (np *netpollServer) stats() []WorkerStats {
	st := make([]WorkerStats, len(np.srvs))
	for i, srv := range np.srvs {
		st[i] = srv.Stats()
	}
	return st
}

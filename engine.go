package uringd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/netpoll"
	"github.com/uringd/uringd/uring"
	"github.com/uringd/uringd/worker"
	"golang.org/x/sys/unix"
)

// Engine selects how the server does its I/O.
type Engine int

const (
	// EngineIOUring (the default): one event loop per CPU on io_uring. Start
	// fails if io_uring cannot be set up (the error says why and what to do).
	EngineIOUring Engine = iota
	// EngineNetpoll: Go's net package, a goroutine per connection. Portable
	// (any kernel, gVisor, seccomp profiles without io_uring), slower.
	EngineNetpoll
	// EngineAuto: io_uring if it can be set up, else netpoll, with a
	// warning in the log that gives the io_uring error.
	EngineAuto
)

func (e Engine) String() string {
	switch e {
	case EngineIOUring:
		return "io_uring"
	case EngineNetpoll:
		return "netpoll"
	case EngineAuto:
		return "auto"
	}
	return fmt.Sprintf("Engine(%d)", int(e))
}

// ParseEngine is String's inverse, for flags: "io_uring" (or "iouring"),
// "netpoll" or "auto".
func ParseEngine(s string) (Engine, error) {
	switch s {
	case "io_uring", "iouring":
		return EngineIOUring, nil
	case "netpoll":
		return EngineNetpoll, nil
	case "auto":
		return EngineAuto, nil
	}
	return 0, fmt.Errorf("uringd: engine %q: want io_uring, netpoll or auto", s)
}

// Defaults of the offload pool (blocking handlers, FromHTTP).
const (
	DefaultBlockingWorkers = 1024
	DefaultBlockingQueue   = 4096
)

// newOffloadPool is the pool every worker hands detached requests to
// (c is defaulted and validated).
func newOffloadPool(c *Config) *worker.OffloadPool {
	return worker.NewOffloadPool(c.BlockingWorkers, c.BlockingQueue)
}

// uringUnavailable reports whether err says io_uring cannot be used here
// (as opposed to a bad configuration or a busy port): the cases EngineAuto
// falls back on.
func uringUnavailable(err error) bool {
	var se *uring.SetupError
	return errors.As(err, &se) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) ||
		errors.Is(err, errors.ErrUnsupported)
}

// npEngine is a server running on the netpoll engine.
type npEngine struct {
	srv      *netpoll.Server
	ln       net.Listener
	force    context.CancelFunc // ends the graceful shutdown at once
	forceCtx context.Context
	once     sync.Once
}

// startNetpoll serves with the netpoll engine; s.mu is held. why is the
// io_uring error that made EngineAuto fall back (nil when chosen).
func (s *Server) startNetpoll(why error) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("uringd: listen %s: %w", s.cfg.Addr, err)
	}
	if why != nil {
		s.cfg.Logger.Warn("io_uring unavailable; serving with the netpoll engine (goroutine per connection)",
			"reason", why.Error())
	}
	c := &s.cfg
	np := &npEngine{ln: ln, srv: netpoll.New(netpoll.Config{
		Handler: &s.mux, Logger: c.Logger,
		Limits: http1.Limits{
			MaxURI: c.MaxURI, MaxHeaderBytes: c.MaxHeaderBytes,
			MaxHeaders: c.MaxHeaders, MaxBody: c.MaxBody, MaxStreamBody: c.MaxStreamBody,
		},
		MaxConns:           c.MaxConnsPerWorker * max(c.Workers, 1),
		MaxPendingOutput:   c.MaxPendingOutput,
		MaxBodyBuffer:      c.MaxBodyBufferPerWorker * int64(max(c.Workers, 1)),
		HeaderTimeout:      c.HeaderTimeout,
		BodyTimeout:        c.BodyTimeout,
		MinBodyRate:        c.MinBodyRate,
		MinBodyRateGrace:   c.MinBodyRateGrace,
		RequestReadTimeout: c.RequestReadTimeout,
		IdleTimeout:        c.IdleTimeout,
		WriteTimeout:       c.WriteTimeout,

		DebugPoisonBuffers: c.DebugPoisonBuffers,
		StreamBody:         s.mux.streamsBody,
	})}
	np.forceCtx, np.force = context.WithCancel(context.Background())
	s.np, s.started, s.addr = np, true, ln.Addr().(*net.TCPAddr)
	go func() {
		err := np.srv.Serve(ln)
		if !errors.Is(err, netpoll.ErrServerClosed) {
			s.cfg.Logger.Error("netpoll: accept loop stopped", "err", err)
		}
	}()
	return nil
}

// signalNetpoll starts (once) the graceful shutdown, or forces it.
func (s *Server) signalNetpoll(force bool) {
	np := s.np
	np.once.Do(func() {
		go func() {
			np.srv.Shutdown(np.forceCtx)
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			close(s.done)
		}()
	})
	if force {
		np.force()
	}
}

// Engine reports the engine serving (EngineIOUring or EngineNetpoll once
// started; Config.Engine before).
func (s *Server) Engine() Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.np != nil {
		return EngineNetpoll
	}
	if s.started {
		return EngineIOUring
	}
	return s.cfg.Engine
}

// stats reports the netpoll engine's counters as one worker's.
func (np *npEngine) stats() Stats {
	n := np.srv.Stats()
	w := WorkerStats{
		Accepted: n.Accepted, Open: n.Open, Requests: n.Requests, BytesIn: n.BytesIn,
		BytesOut: n.BytesOut, BadRequests: n.BadRequests, Rejected: n.Rejected, Panics: n.Panics,
		TimeoutHead: n.TimeoutHead, TimeoutBody: n.TimeoutBody, TimeoutIdle: n.TimeoutIdle,
		TimeoutWrite: n.TimeoutWrite, RecvErrors: n.RecvErrors, SendErrors: n.SendErrors,
		AcceptErrors: n.AcceptErrors, Paused: n.Paused,
		BodyBufferFull: n.BodyBufferFull, BodyBufferBytes: n.BodyBufferBytes,
	}
	return Stats{Total: w, Workers: []WorkerStats{w}}
}

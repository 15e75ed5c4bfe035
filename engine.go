package uringd

import (
	"errors"
	"fmt"
	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/proxyproto"
	"net"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/uring"
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

// engineServer is a started engine, as the Server sees it: the one seam
// between the root package and the engines (engine_uring.go,
// engine_netpoll.go).
type engineServer interface {
	kind() Engine
	workers() int
	features() uring.Features
	stats() []WorkerStats // per worker
	// shutdown starts the graceful shutdown (at most once), or forces it:
	// the remaining connections are closed at once. Safe after done.
	shutdown(force bool)
	// done is closed once every worker has exited and released what it held.
	done() <-chan struct{}
	// err is what stopped serving, other than a shutdown; nil after one.
	err() error
}

// startEngine starts the configured engine on its listeners; s.mu is held.
// With EngineAuto, an io_uring that cannot be set up falls back to netpoll,
// with a warning that gives the io_uring error.
func (s *Server) startEngine() (engineServer, *net.TCPAddr, error) {
	n := s.cfg.Workers
	if n == 0 {
		cpus, err := engine.AllowedCPUs()
		if err != nil {
			return nil, nil, err
		}
		n = len(cpus)
	}
	if s.cfg.Engine == EngineNetpoll {
		return startNetpoll(s, n)
	}
	u, addr, err := startUring(s, n)
	if err != nil && s.cfg.Engine == EngineAuto && uringUnavailable(err) {
		s.cfg.Logger.Warn("io_uring unavailable; serving with the netpoll engine (goroutine per connection)",
			"reason", err.Error())
		return startNetpoll(s, n)
	}
	if err != nil {
		return nil, nil, err
	}
	return u, addr, nil
}

// engineConfig is what both engines take from the Config, per worker, with
// h as the entry to the router.
func (s *Server) engineConfig(h engine.Handler) engine.Config {
	c := &s.cfg
	return engine.Config{
		Handler: h, Logger: c.Logger,
		Limits: http1.Limits{
			MaxURI: c.MaxURI, MaxHeaderBytes: c.MaxHeaderBytes,
			MaxHeaders: c.MaxHeaders, MaxBody: c.MaxBody, MaxStreamBody: c.MaxStreamBody,
		},
		MaxConns:           c.MaxConnsPerWorker,
		MaxPendingOutput:   c.MaxPendingOutput,
		MaxBodyBuffer:      int(c.MaxBodyBufferPerWorker),
		HeaderTimeout:      c.HeaderTimeout,
		BodyTimeout:        c.BodyTimeout,
		MinBodyRate:        c.MinBodyRate,
		MinBodyRateGrace:   c.MinBodyRateGrace,
		RequestReadTimeout: c.RequestReadTimeout,
		IdleTimeout:        c.IdleTimeout,
		WriteTimeout:       c.WriteTimeout,
		Offload:            s.offload,
		StreamBody:         s.mux.streamsBody,
		DebugPoisonBuffers: c.DebugPoisonBuffers,
		AccessLog:          newSink(c.AccessLog),
		ProxyFrom:          proxyFrom(&c.ProxyProtocolFrom),
		TLS:                s.tls,
		HandshakeTimeout:   c.HandshakeTimeout,
		MaxHandshakes:      c.MaxHandshakesPerWorker,
	}
}

func proxyFrom(a *proxyproto.Allow) *proxyproto.Allow {
	if a.Len() == 0 {
		return nil
	}
	return a
}

// newSink gives a worker its own sink of the access log, if there is one.
func newSink(l *accesslog.Log) *accesslog.Sink {
	if l == nil {
		return nil
	}
	return l.Sink()
}

// uringUnavailable reports whether err says io_uring cannot be used here
// (as opposed to a bad configuration or a busy port): the cases EngineAuto
// falls back on.
func uringUnavailable(err error) bool {
	var se *uring.SetupError
	return errors.As(err, &se) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) ||
		errors.Is(err, errors.ErrUnsupported)
}

// DurationBounds are the upper bounds of the request duration histogram
// (WorkerStats.Durations; the last bucket counts what is above them all).
var DurationBounds = engine.DurationBounds

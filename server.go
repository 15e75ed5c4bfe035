package uringd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/uring"
	"github.com/uringd/uringd/worker"
)

// ErrServerClosed is returned by ListenAndServe and Serve after Shutdown.
var ErrServerClosed = errors.New("uringd: server closed")

// listenBacklog is the accept queue length of each worker's listener.
const listenBacklog = 4096

// Server is an HTTP/1.1 server: one event loop (worker) per CPU, each with
// its own io_uring and SO_REUSEPORT listener. Register routes with Handle
// and HandleFunc before starting it.
type Server struct {
	cfg Config
	mux router

	mu       sync.Mutex // guards the fields below (never taken by workers)
	started  bool
	closed   bool // workers exited and were closed
	shutdown bool // Shutdown was called
	workers  []*worker.Worker
	addr     *net.TCPAddr
	done     chan struct{} // closed when every worker has exited
	runErr   error         // first error a worker loop returned

	offload *worker.OffloadPool // runs blocking handlers (blocking.go)
	np      *npEngine           // non-nil when serving with EngineNetpoll (engine.go)
}

// New checks cfg (zero fields take their defaults, see Config) and returns
// a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, done: make(chan struct{}), offload: newOffloadPool(&cfg)}
	s.mux.slow, s.mux.log, s.mux.epoch = cfg.SlowHandler, cfg.Logger, time.Now()
	return s, nil
}

// Handle registers h for the requests pattern matches. Patterns are those
// of net/http.ServeMux (Go 1.22), without a host:
//
//	"GET /items/{id}"    GET (and HEAD) of /items/ and one segment; r.PathValue("id")
//	"/files/{path...}"   any method, /files/ and everything below it
//	"/static/"           the subtree /static/...; "/static" is redirected to it (307, as ServeMux)
//	"/{$}"               only "/" ("/" alone is every path no other pattern matches)
//	"POST /echo"         exactly /echo
//
// The most specific pattern wins; registering one that matches the same
// requests as another, or overlaps it with neither more specific, panics,
// as ServeMux does. A path that some pattern matches with other methods
// gets 405 with Allow, any other 404. Methods are case-sensitive and
// upper-case ("get" panics). Percent-escapes are compared as sent, not
// decoded, and paths are not cleaned.
//
// h runs on the worker's event loop (see Handler); the other kinds are
// adapters: Handle("GET /report", Blocking(h)) for a BlockingHandler, and
// Handle("/", FromHTTP(mux)) for any net/http handler (an http.HandlerFunc
// or http.ServeMux passed here directly does not compile: wrap it in
// FromHTTP). Handle panics on a nil handler, a bad pattern, or once the
// server has started.
func (s *Server) Handle(pattern string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic(fmt.Sprintf("uringd: Handle(%q) after the server started", pattern))
	}
	s.mux.add(pattern, h)
}

// HandleFunc registers a plain handler function like Handle.
func (s *Server) HandleFunc(pattern string, f func(w *Response, r *Request)) {
	if f == nil {
		panic(fmt.Sprintf("uringd: nil handler for pattern %q", pattern))
	}
	s.Handle(pattern, HandlerFunc(f))
}

// ListenAndServe starts the server (Start) and blocks until it has shut
// down; then it returns ErrServerClosed, or the error that stopped it.
func (s *Server) ListenAndServe() error {
	if err := s.Start(); err != nil {
		return err
	}
	return s.Wait()
}

// Wait blocks until every worker has exited (after Shutdown) and returns
// like ListenAndServe.
func (s *Server) Wait() error {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runErr != nil {
		return s.runErr
	}
	return ErrServerClosed
}

// Start opens the listeners and starts the workers, returning once every
// worker serves (or the first setup error, with everything undone).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("uringd: server already started")
	}
	if s.cfg.Engine == EngineNetpoll {
		return s.startNetpoll(nil) // engine.go
	}
	cpus, err := worker.AllowedCPUs()
	if err != nil {
		return err
	}
	n := s.cfg.Workers
	if n == 0 {
		n = len(cpus)
	}
	fds, addr, err := worker.Listen(s.cfg.Addr, n, listenBacklog)
	if err != nil {
		return err
	}
	if !s.cfg.KeepGOMAXPROCS && runtime.GOMAXPROCS(0) < n+1 {
		runtime.GOMAXPROCS(n + 1) // a spare P: workers hold theirs while they wait (Config.KeepGOMAXPROCS)
	}
	ws, err := s.startWorkers(fds, cpus)
	if err != nil {
		if s.cfg.Engine == EngineAuto && uringUnavailable(err) {
			return s.startNetpoll(err) // engine.go
		}
		return err
	}
	s.started, s.workers, s.addr = true, ws, addr
	go s.reap()
	return nil
}

func (s *Server) startWorkers(fds []int, cpus []int) ([]*worker.Worker, error) {
	ws := make([]*worker.Worker, 0, len(fds))
	ready := make(chan error, len(fds))
	var err error
	for i, fd := range fds {
		var w *worker.Worker
		if w, err = worker.New(s.workerConfig(i, cpus[i%len(cpus)], fd)); err != nil {
			break
		}
		ws = append(ws, w)
		go func() {
			if err := w.Run(ready); err != nil {
				s.loopStopped(w, err)
			}
		}()
		if err = <-ready; err != nil {
			break
		}
	}
	if err == nil {
		return ws, nil
	}
	for _, w := range ws {
		w.Shutdown(true)
		w.Close()
	}
	for _, fd := range fds[len(ws):] {
		closeFD(fd)
	}
	return nil, err
}

// loopStopped records err as what stopped the server, if w was serving. A
// worker that failed its setup sent err to Start, which handled it (undone,
// returned, or with EngineAuto the netpoll fallback): recording it again
// would make Wait report the io_uring error after a clean Shutdown of the
// fallback. Such a worker never joins s.workers, since Start holds s.mu
// until it has decided.
func (s *Server) loopStopped(w *worker.Worker, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runErr == nil && slices.Contains(s.workers, w) {
		s.runErr = err
	}
}

func (s *Server) workerConfig(id, cpu, fd int) worker.Config {
	c := &s.cfg
	return worker.Config{
		ID: id, CPU: cpu, Listener: fd, Handler: &loopMux{rt: &s.mux}, Logger: c.Logger,
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
		Tick:               c.Tick,
		RingEntries:        uint32(c.RingEntries),
		RecvBufferSize:     c.RecvBufferSize,
		RecvBuffers:        c.RecvBuffers,
		DisableMultishot:   c.DisableMultishot,
		DisableBufRing:     c.DisableBufRing,
		DisableShutdownOp:  c.DisableShutdownOp,
		DebugPoisonBuffers: c.DebugPoisonBuffers,
		RawWait:            !c.KeepGOMAXPROCS,
		Offload:            s.offload,
		StreamBody:         s.mux.streamsBody,
	}
}

// reap waits for every worker to exit, then releases them.
func (s *Server) reap() {
	for _, w := range s.workers {
		<-w.Done()
	}
	s.mu.Lock()
	for _, w := range s.workers {
		w.Close()
	}
	s.closed = true
	s.mu.Unlock()
	close(s.done)
}

// Shutdown stops the server gracefully: every worker stops accepting,
// finishes the requests it has started (their responses say
// "Connection: close"), closes idle connections, and exits. Shutdown returns
// when all workers have exited, or when ctx is done: then the remaining
// connections are closed at once and ctx.Err() is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return errors.New("uringd: Shutdown of a server that was not started")
	}
	s.shutdown = true
	s.signal(false)
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.signal(true)
	s.mu.Unlock()
	return ctx.Err()
}

// signal asks every worker to stop; s.mu is held (so reap cannot close the
// workers' eventfds meanwhile).
func (s *Server) signal(force bool) {
	if s.closed {
		return
	}
	if s.np != nil {
		s.signalNetpoll(force) // engine.go
		return
	}
	for _, w := range s.workers {
		w.Shutdown(force)
	}
}

// Addr is the address the server listens on (with the real port when
// Config.Addr had port 0); nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == nil {
		return nil
	}
	return s.addr
}

// Stats are the server's counters: the sum, and each worker's.
type Stats struct {
	Total   WorkerStats
	Workers []WorkerStats
}

// WorkerStats are one worker's counters (see worker.Stats).
type WorkerStats = worker.Stats

// Stats reads every worker's counters without stopping them (they are
// published once per loop turn).
func (s *Server) Stats() Stats {
	s.mu.Lock()
	ws, np := s.workers, s.np
	s.mu.Unlock()
	if np != nil {
		return np.stats() // engine.go
	}
	st := Stats{Workers: make([]WorkerStats, len(ws))}
	for i, w := range ws {
		st.Workers[i] = w.Stats()
		st.Total.Add(st.Workers[i])
	}
	return st
}

// Workers reports the number of workers serving (0 before Start).
func (s *Server) Workers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.workers)
}

// Features reports the io_uring features the first worker's ring uses
// (all workers run the same kernel and configuration).
func (s *Server) Features() uring.Features {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.workers) == 0 {
		return 0
	}
	return s.workers[0].Features()
}

func (s *Server) String() string {
	return fmt.Sprintf("uringd on %v, %d workers", s.Addr(), s.Workers())
}

package uringd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/tlsrecord"
	"github.com/uringd/uringd/uring"
)

// ErrServerClosed is returned by ListenAndServe and Serve after Shutdown.
var ErrServerClosed = engine.ErrServerClosed

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
	shutdown bool         // Shutdown was called
	eng      engineServer // the engine serving, once started (engine.go)
	addr     *net.TCPAddr
	done     chan struct{} // closed when the engine has stopped

	offload *engine.Pool // runs blocking handlers (blocking.go)

	lfiles      []*os.File          // dups of the listeners while serving (listeners.go)
	tls         *tls.Config         // the server's clone of Config.TLS (tls.go); nil: cleartext
	tlsAcceptor *tlsrecord.Acceptor // the io_uring engine's handshakes, shared by its workers
}

// New checks cfg (zero fields take their defaults, see Config) and returns
// a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, done: make(chan struct{}), offload: engine.NewPool(cfg.BlockingWorkers, cfg.BlockingQueue)}
	s.mux.slow, s.mux.log, s.mux.epoch = cfg.SlowHandler, cfg.Logger, time.Now()
	s.setupTLS()
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
	if err := s.eng.err(); err != nil {
		return err
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
	eng, addr, err := s.startEngine() // engine.go
	if err != nil {
		s.closeListenerFiles()
		return err
	}
	s.started, s.eng, s.addr = true, eng, addr
	go func() {
		<-eng.done()
		s.mu.Lock()
		s.closeListenerFiles()
		s.mu.Unlock()
		close(s.done)
	}()
	return nil
}

// Shutdown stops the server gracefully: every worker stops accepting,
// finishes the requests it has started (their responses say
// "Connection: close"), closes idle connections, and exits. A connection
// that has sent nothing yet is idle only 5 seconds after its accept, as in
// net/http: its first request is likely on the way, and a client may not
// retry a request on a connection that never carried one. Shutdown returns
// when all workers have exited, or when ctx is done: then the remaining
// connections are closed at once and ctx.Err() is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return errors.New("uringd: Shutdown of a server that was not started")
	}
	s.shutdown = true
	s.closeListenerFiles()
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

// signal asks the engine to stop; s.mu is held.
func (s *Server) signal(force bool) { s.eng.shutdown(force) }

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
	// AccessLogDropped counts access log lines dropped because the
	// destination could not keep up (Config.AccessLog).
	AccessLogDropped uint64
	// OffloadRunning is the blocking and net/http handlers running now on
	// the offload pool, OffloadQueued those waiting for one of its
	// goroutines (Config.BlockingWorkers, BlockingQueue).
	OffloadRunning, OffloadQueued int
}

// WorkerStats are one worker's counters: an io_uring event loop's, or a
// netpoll accept loop's (which leaves the ring's counters at 0). See
// engine.Stats in internal/engine for each field.
type WorkerStats = engine.Stats

// Stats reads every worker's counters without stopping them (they are
// published once per loop turn); zero before Start.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	eng := s.eng
	s.mu.Unlock()
	if eng == nil {
		return Stats{}
	}
	st := Stats{Workers: eng.stats()}
	if s.cfg.AccessLog != nil {
		st.AccessLogDropped = s.cfg.AccessLog.Dropped()
	}
	st.OffloadRunning, st.OffloadQueued = s.offload.Running()
	for _, w := range st.Workers {
		st.Total.Add(w)
	}
	return st
}

// Workers reports the number of workers serving (0 before Start).
func (s *Server) Workers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return 0
	}
	return s.eng.workers()
}

// Features reports the io_uring features the first worker's ring uses
// (all workers run the same kernel and configuration); 0 on netpoll.
func (s *Server) Features() uring.Features {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return 0
	}
	return s.eng.features()
}

// Engine reports the engine serving (EngineIOUring or EngineNetpoll once
// started; Config.Engine before).
func (s *Server) Engine() Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return s.cfg.Engine
	}
	return s.eng.kind()
}

func (s *Server) String() string {
	return fmt.Sprintf("uringd on %v, %d workers", s.Addr(), s.Workers())
}

// Package netpoll is uringd's portable engine: the same handlers served over
// Go's net package (the runtime's netpoller) with a goroutine per
// connection, for where io_uring cannot be used (old kernel,
// kernel.io_uring_disabled, a seccomp profile, gVisor). It parses with
// http1.Parser and answers with http1.Response on pooled buffers, like the
// io_uring worker, so handlers see the same types and behaviour; it is
// slower (a goroutine and a read/write syscall per connection turn).
package netpoll

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/internal/engine"
)

// Config is what a Server takes: the engines' shared configuration (one
// Server is one netpoll worker: MaxConns and MaxBodyBuffer bound it alone).
type Config = engine.Config

// Server serves HTTP/1.1 on a net.Listener, one goroutine per connection.
type Server struct {
	cfg  Config
	base context.Context // parent of detached responses' contexts; cancelled at forced shutdown
	stop context.CancelFunc

	mu       sync.Mutex
	ln       net.Listener
	hs       chan struct{} // a slot per handshake in progress (Config.MaxHandshakes); nil: no bound
	conns    map[*conn]struct{}
	draining atomic.Bool // Shutdown called: answers say Connection: close
	wg       sync.WaitGroup
	accepts  sync.WaitGroup // Serve's accept loop: Shutdown waits for it before it waits for wg
	stats    counters
	inHeld   atomic.Int64 // input buffer bytes counted against MaxBodyBuffer
}

// New returns a Server for cfg (zero limits and timeouts are the caller's
// business: the uringd package passes defaulted values). Detached responses
// run on cfg.Offload, as on the io_uring engine; without one, Detach
// refuses.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, base: ctx, stop: stop, conns: make(map[*conn]struct{})}
	if cfg.TLS != nil && cfg.MaxHandshakes > 0 {
		s.hs = make(chan struct{}, cfg.MaxHandshakes)
	}
	return s
}

// Serve accepts connections on ln until Shutdown, then returns
// engine.ErrServerClosed (or the accept error that stopped it).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.draining.Load() { // Shutdown came first: it found no listener to close
		s.mu.Unlock()
		ln.Close()
		return engine.ErrServerClosed
	}
	s.ln = ln
	s.accepts.Add(1)
	s.mu.Unlock()
	defer s.accepts.Done()
	var backoff time.Duration
	var lastLog time.Time
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.draining.Load() {
				return engine.ErrServerClosed
			}
			s.stats.acceptE.Add(1)
			if ne, ok := err.(net.Error); ok && ne.Timeout() || isTemporary(err) {
				// EMFILE & co: back off instead of spinning (as net/http does).
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if now := time.Now(); now.Sub(lastLog) >= engine.AcceptLogEvery {
					lastLog = now
					s.cfg.Logger.Warn("netpoll: accept failing; backing off", "err", err, "retry_in", backoff)
				}
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.track(nc)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// track starts the goroutine of a new connection, or refuses it over
// MaxConns. One accepted while shutting down (its accept raced the
// listener's close) is served too, with Connection: close: its client is
// sending a request it cannot retry (engine.FreshHold); Shutdown waits
// for the accept loop to end before it counts the connections.
func (s *Server) track(nc net.Conn) {
	s.stats.accepted.Add(1)
	s.mu.Lock()
	if s.cfg.MaxConns > 0 && len(s.conns) >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		go reject(nc)
		return
	}
	c := newConn(s, nc) // a TLS connection is wrapped by its goroutine (startTLS), after any PROXY header

	s.conns[c] = struct{}{}
	s.stats.open.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	go c.serve()
}

var response503 = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n" +
	"Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\nServer overloaded.\r\n")

func reject(nc net.Conn) {
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write(response503)
	nc.Close()
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.stats.open.Add(^uint64(0))
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, closes idle connections, lets the others finish
// their current request (answered with Connection: close), and returns when
// all are closed; at ctx's end it closes the rest and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()
	s.accepts.Wait() // every connection it accepted is in wg
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			s.stop()
			return nil
		case <-ctx.Done():
			s.stop()
			s.closeAll()
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *Server) closeIdle() {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.closeIfIdle(now)
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}

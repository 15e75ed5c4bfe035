package netpoll

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/uringd/uringd/http1"
)

// ErrNotDetachable: Detach was given a Response that no connection of a
// netpoll Server is serving right now.
var ErrNotDetachable = errors.New("netpoll: Detach outside a netpoll handler")

// conns maps the *http1.Response each connection goroutine passes to its
// handler to that connection, so that Detach finds it (registered for the
// connection's life).
var conns sync.Map // *http1.Response -> *conn

// Detach, called by a Handler during ServeHTTP, makes the connection run
// run(stream) once the handler returns, instead of sending what the handler
// wrote to resp. Here the connection has its own goroutine, which may block,
// so run is called on it: the response goes out in order by construction,
// and the next pipelined request is read when run returns. The Stream has the
// same methods as worker.Stream.
func Detach(resp *http1.Response, run func(*Stream)) error {
	v, ok := conns.Load(resp)
	if !ok || run == nil {
		return ErrNotDetachable
	}
	v.(*conn).detached = run
	return nil
}

// Stream is a detached response written straight to the connection by the
// connection's goroutine.
type Stream struct {
	c      *conn
	req    http1.Request // the request, valid until Finish
	ctx    context.Context
	cancel context.CancelFunc
	err    error
	done   bool
	close  bool
}

// Request is the request being answered; valid until Finish.
func (s *Stream) Request() *http1.Request { return &s.req }

// RemoteAddr is the client's "ip:port".
func (s *Stream) RemoteAddr() string { return s.c.remote }

// Logger is the server's Config.Logger, for the producer's own logs (a
// blocking handler's panic).
func (s *Stream) Logger() *slog.Logger { return s.c.s.cfg.Logger }

// Context is cancelled when a write fails (the client went away), at
// Shutdown's deadline, and at Finish.
func (s *Stream) Context() context.Context { return s.ctx }

// Write sends raw, already framed response bytes.
func (s *Stream) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.done {
		return 0, errors.New("netpoll: write after the response was finished")
	}
	n, err := s.c.write(p)
	if err != nil {
		s.err = err
		s.cancel()
	}
	return n, err
}

// Finish ends the response; closeConn closes the connection after it.
func (s *Stream) Finish(closeConn bool) {
	if s.done {
		return
	}
	s.done = true
	s.close = closeConn || s.err != nil
	s.cancel()
}

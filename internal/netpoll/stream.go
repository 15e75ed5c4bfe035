package netpoll

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/uringd/uringd/accesslog"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// DetachCurrent is the connection's side of engine.Detach, called by the
// handler on the connection's goroutine: once the handler returns, run
// answers the request on a goroutine of Config.Offload (runDetached), so
// that Config.BlockingWorkers and BlockingQueue bound blocking handlers on
// this engine as on io_uring.
func (c *conn) DetachCurrent(run func(engine.Stream)) error {
	if c.s.cfg.Offload == nil {
		return engine.ErrNotDetachable
	}
	c.detached = run
	return nil
}

// Stream is a detached response, written by a pool goroutine straight to
// the connection while the connection's goroutine waits for it to finish:
// the response goes out in order by construction, and the next pipelined
// request is read when it is done.
type Stream struct {
	c      *conn
	run    func(engine.Stream)
	ran    chan struct{} // closed when run returned
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

// Answered counts and logs the detached response (engine.Stream), with
// its duration from the request's first byte.
func (s *Stream) Answered(status int, bodyBytes int64) {
	now := time.Now()
	c := s.c
	c.s.stats.countResponse(engine.KindOffload, status, now.Sub(c.start))
	sink := c.s.cfg.AccessLog
	if sink == nil {
		return
	}
	e := accesslog.Entry{Remote: c.peer, Time: now, Duration: now.Sub(c.start), Status: status,
		BodyBytes: bodyBytes, Method: s.req.Method, Target: s.req.Target, ProtoMinor: s.req.ProtoMinor,
		Referer: s.req.Header("Referer"), UserAgent: s.req.Header("User-Agent")}
	sink.Log(&e)
}

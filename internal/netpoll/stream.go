package netpoll

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"syscall"
	"time"

	"github.com/uringd/uringd/accesslog"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
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

// SendFile sends n bytes of the file f from off after the queued output,
// with sendfile(2) on the connection's socket, waiting in Go's poller
// while the client's window is full (under the write timeout).
func (s *Stream) SendFile(f syscall.Conn, off, n int64) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.done {
		return 0, errors.New("netpoll: write after the response was finished")
	}
	sc, ok := s.c.nc.(syscall.Conn)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	dst, err := sc.SyscallConn()
	if err != nil {
		return 0, errors.ErrUnsupported
	}
	src, err := f.SyscallConn()
	if err != nil {
		return 0, errors.ErrUnsupported
	}
	if err := s.c.flush(); err != nil {
		s.err = err
		s.cancel()
		return 0, err
	}
	s.c.nc.SetWriteDeadline(time.Now().Add(s.c.s.cfg.WriteTimeout))
	var sent int64
	var serr error
	rerr := src.Read(func(ffd uintptr) bool {
		werr := dst.Write(func(sfd uintptr) bool {
			for sent < n {
				m, err := unix.Sendfile(int(sfd), int(ffd), &off, int(min(n-sent, 1<<30)))
				if m > 0 {
					sent += int64(m)
				}
				switch {
				case err == unix.EINTR:
				case err == unix.EAGAIN:
					return false // wait for room, under the deadline
				case err != nil:
					serr = err
					return true
				case m == 0:
					serr = io.ErrUnexpectedEOF // the file shrank
					return true
				}
			}
			return true
		})
		if serr == nil {
			serr = werr
		}
		return true
	})
	if serr == nil {
		serr = rerr
	}
	s.c.countWrite(int(sent), serr)
	s.c.s.stats.fileBytesOut.Add(uint64(sent))
	if serr != nil {
		s.err = serr
		s.cancel()
	}
	return sent, serr
}

package worker

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SendFile sends n bytes of f from off to the client with sendfile(2): from
// the page cache to the socket, no copy through user space and no page of
// the file held by the server, on the producer's pool goroutine (it waits
// while the client reads, on Go's poller rather than in the kernel:
// sendfilePolled; the loop goes on). What the producer posted
// before (the head) is sent first: SendFile waits until the connection's
// output has none of the stream's bytes left. It works on a duplicate of
// the socket, so that the worker closing the connection meanwhile (the
// client went away, a timeout, a forced shutdown) cannot make it write to
// a reused descriptor; that close shuts the socket down, which ends the
// sendfile. Config.WriteTimeout bounds each wait for the client (a
// deadline on the poller, SO_SNDTIMEO in the kernel). It returns errors.ErrUnsupported where the connection
// cannot take raw file bytes (the caller copies then).
func (s *Stream) SendFile(f syscall.Conn, off, n int64) (int64, error) {
	if s.tls != nil && !s.ktls {
		return 0, errors.ErrUnsupported // raw file bytes on a userland TLS connection: never
	}
	s.payOwed() // the head must go out before we wait for it (wake.go)
	s.mu.Lock()
	for s.err == nil && !s.done && s.unsent > 0 {
		s.cond.Wait()
	}
	switch {
	case s.err != nil:
		err := s.err
		s.mu.Unlock()
		return 0, err
	case s.done:
		s.mu.Unlock()
		return 0, ErrFinished
	}
	// Under mu: the worker fails the stream (fail, under mu) before it
	// closes the socket, so s.fd is still this connection's.
	sfd, err := unix.Dup(int(s.fd))
	if err != nil {
		s.mu.Unlock()
		return 0, errors.ErrUnsupported
	}
	s.sfd = sfd
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.sfd = -1
		s.mu.Unlock()
		unix.Close(sfd)
	}()
	if t := s.w.cfg.WriteTimeout; t > 0 {
		tv := unix.NsecToTimeval(t.Nanoseconds())
		_ = unix.SetsockoptTimeval(sfd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
		defer func() {
			var zero unix.Timeval
			_ = unix.SetsockoptTimeval(sfd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &zero)
		}()
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, errors.ErrUnsupported
	}
	var sent int64
	var serr error
	cerr := rc.Read(func(ffd uintptr) bool {
		var ok bool
		if sent, serr, ok = sendfilePolled(sfd, int(ffd), off, n, s.w.cfg.WriteTimeout); !ok {
			sent, serr = sendfile(sfd, int(ffd), off, n)
		}
		return true
	})
	s.filed.Add(sent)
	if cerr != nil && serr == nil {
		serr = cerr
	}
	// On an error the response is short of its length: the producer's
	// Finish(true) closes the connection.
	return sent, serr
}

// sendfile sends n bytes of in from off to out, a blocking socket, as far
// as they go: the count sent, and why it stopped short (a file that shrank
// is io.ErrUnexpectedEOF's case: 0 bytes and no error).
func sendfile(out, in int, off, n int64) (int64, error) {
	var sent int64
	for sent < n {
		m, err := unix.Sendfile(out, in, &off, int(min(n-sent, 1<<30)))
		if m > 0 {
			sent += int64(m)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN: // SO_SNDTIMEO passed without progress
			return sent, os.ErrDeadlineExceeded
		case err != nil:
			return sent, err
		case m == 0:
			return sent, errShortFile
		}
	}
	return sent, nil
}

var errShortFile = errors.New("uringd: the file ended before the length sent")

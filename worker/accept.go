package worker

import (
	"time"

	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// response503 answers a connection over MaxConnsPerWorker. It is a package
// variable (static data: never moved, never freed), so the kernel may read it
// while the send is in flight.
var response503 = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n" +
	"Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\nServer overloaded.\r\n")

func (w *Worker) armAccept() {
	sqe := w.ring.GetSQE()
	if w.multishotAccept {
		sqe.PrepAcceptMultishot(int32(w.lfd), unix.SOCK_CLOEXEC)
	} else {
		sqe.PrepAccept(int32(w.lfd), unix.SOCK_CLOEXEC)
	}
	sqe.SetUserData(uint64(pack(opAccept, 0, 0)))
	w.acceptArmed = true
}

// onAccept handles an accept CQE. Errno table:
//
//	retry (re-arm now): ECONNABORTED, EPROTO, EPERM (firewall), EINTR, EAGAIN,
//	                    ENETDOWN & co (errors of the new connection, not ours)
//	back off (re-arm at the next tick, log once per interval): EMFILE, ENFILE,
//	                    ENOBUFS, ENOMEM
//	stop: ECANCELED (shutdown cancelled it)
//	bug: anything else (EBADF, EINVAL, ENOTSOCK: the listener is broken)
func (w *Worker) onAccept(res int32, more bool) {
	if !more {
		w.acceptArmed = false
	}
	switch e := unix.Errno(-res); {
	case res >= 0:
		w.stats.inc(cAccepted)
		w.newConn(res)
	case e == unix.ECONNABORTED || e == unix.EPROTO || e == unix.EPERM || e == unix.EINTR ||
		e == unix.EAGAIN || e == unix.ENETDOWN || e == unix.ENOPROTOOPT || e == unix.EHOSTDOWN ||
		e == unix.ENONET || e == unix.EHOSTUNREACH || e == unix.EOPNOTSUPP || e == unix.ENETUNREACH:
		w.stats.inc(cAcceptErrors)
	case e == unix.EMFILE || e == unix.ENFILE || e == unix.ENOBUFS || e == unix.ENOMEM:
		w.stats.inc(cAcceptErrors)
		w.acceptBackoff(e, more)
	case e == unix.ECANCELED:
	default:
		w.stats.inc(cAcceptErrors)
		w.unexpected(opAccept, res)
		w.acceptBackoff(e, more)
	}
	switch {
	case w.mode != runServing && w.acceptArmed:
		// Shutting down but the multishot accept survived (its cancel raced
		// with this completion): cancel it again.
		w.cancel(pack(opAccept, 0, 0), pack(opListenerClose, 0, 0))
	case w.mode != runServing:
		w.checkRun() // the listener can close once its accept is over
	case !w.acceptArmed && !w.acceptPaused:
		w.armAccept()
	}
}

// acceptBackoff stops accepting until the next timer tick, so that running
// out of descriptors does not turn into a busy loop of failing accepts.
func (w *Worker) acceptBackoff(e unix.Errno, more bool) {
	w.acceptPaused = true
	if more { // a multishot accept still armed: stop it
		w.cancel(pack(opAccept, 0, 0), pack(opListenerClose, 0, 0))
	}
	if now := time.Now(); now.Sub(w.lastAcceptLog) >= engine.AcceptLogEvery {
		w.lastAcceptLog = now
		w.log.Warn("accept failing; pausing accepts for one tick", "errno", e.Error(),
			"open", w.conns.open, "retry_in", w.tick.String())
	}
}

// resumeAccept is called by the timer tick.
func (w *Worker) resumeAccept() {
	if w.acceptPaused {
		w.acceptPaused = false
		if !w.acceptArmed && w.mode == runServing {
			w.armAccept()
		}
	}
}

// newConn takes a freshly accepted socket: into a slot with recv armed, or,
// over the limit or while shutting down, answered and closed.
func (w *Worker) newConn(res int32) {
	fd := res
	if w.mode == runForce {
		w.closeFD(fd)
		return
	}
	// Draining: an accept CQE that raced the cancel. The client connected
	// and is sending its request: serve it (Connection: close) rather than
	// fail it, as drainConn does for fresh connections.
	if w.conns.open >= w.cfg.MaxConns {
		w.stats.inc(cRejected)
		if w.cfg.TLSAcceptor != nil {
			w.closeFD(fd) // a TLS client would read a cleartext 503 as garbage
			return
		}
		w.reject(fd)
		return
	}
	c := w.conns.alloc(fd)
	w.stats.c[cOpen] = uint64(w.conns.open)
	c.parser.Init(&w.cfg.Limits, w.headers)
	// The first request's head is due within HeaderTimeout of the accept.
	c.inRequest = true
	c.reqStart = w.nowTick
	w.proxyExpected(c)
	w.setDeadline(c, timeoutHead)
	if w.cfg.TLSAcceptor != nil && !w.tlsAccept(c) {
		return // too many handshakes in progress: closing (tls.go)
	}
	w.armRecv(c)
	if w.mode == runDraining {
		w.holdFresh = true // sweepFresh bounds its wait for a request
	}
}

// reject sends the static 503 and closes the socket, without a slot: a send
// hard-linked to a close (the close runs even if the send fails). Both SQEs
// are reserved first: were the SQ to fill between them, GetSQE would submit
// the send alone, its link cut, and the close could run before it (seen:
// the client got EOF without the 503).
func (w *Worker) reject(fd int32) {
	if w.ring.SQSpace() < 2 {
		w.ring.Submit() // an error leaves the SQ full: handled below
	}
	if w.ring.SQSpace() < 2 { // the kernel wants its CQ reaped first: no 503
		w.closeFD(fd)
		return
	}
	sqe := w.ring.GetSQE()
	// MSG_DONTWAIT: a client that has no room for the 503 does not get
	// it, rather than holding the close (and the worker's exit) back.
	sqe.PrepSend(fd, response503, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	sqe.SetFlags(sqeHardlink)
	sqe.SetUserData(uint64(pack(opReject, 0, uint32(fd))))
	w.slotless++
	w.closeFD(fd)
}

// closeFD closes a socket that has no slot. Its CQE is awaited before the
// worker exits (slotless), or the fd could outlive the ring unclosed.
func (w *Worker) closeFD(fd int32) {
	sqe := w.ring.GetSQE()
	sqe.PrepClose(fd)
	sqe.SetUserData(uint64(pack(opReject, 0, uint32(fd))))
	w.slotless++
}

// onReject handles the CQEs of slot-less operations: the 503 send and
// close of a rejected connection, and the cancel of the accept. Their
// failures change nothing (the peer went away, or the accept had finished).
func (w *Worker) onReject(u userData, res int32) {
	if u.op() == opReject {
		w.slotless--
	}
	switch e := unix.Errno(-res); {
	case res >= 0, e == unix.ECONNRESET, e == unix.EPIPE, e == unix.ECANCELED,
		e == unix.ENOENT, e == unix.EALREADY, e == unix.ENOTCONN, e == unix.EAGAIN:
	default:
		w.unexpected(u.op(), res)
	}
}

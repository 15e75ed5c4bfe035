package worker

import (
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// lingerTime is how long a connection that sent its last response keeps
// reading (and discarding) after shutting down its write side, so that a
// client still sending gets the response rather than a reset. net/http
// waits 500ms too.
const lingerTime = 500e6 // ns

var sqeHardlink = uint8(uring.SQEIOHardlink)

// cancel submits an async cancel of the op with user_data target.
func (w *Worker) cancel(target, ud userData) {
	sqe := w.ring.GetSQE()
	sqe.PrepCancel(uint64(target), 0)
	sqe.SetUserData(uint64(ud))
	w.stats.inc(cCancels)
}

// cancelOp cancels c's recv or send; the cancel's own CQE is counted in
// inflight, so the slot outlives both.
func (w *Worker) cancelOp(c *conn, target op) {
	w.cancel(pack(target, c.gen, c.slot), pack(opCancel, c.gen, c.slot))
	c.inflight++
	c.cancels++
}

// beginClose moves c to closing: its recv and send are cancelled, and once
// no op is in flight the fd is closed through the ring (maybeClose).
func (w *Worker) beginClose(c *conn) {
	if c.state == stateClosing || c.state == stateFree {
		return
	}
	c.state = stateClosing
	w.abortStream(c) // a detached response's producer stops (offload.go)
	if c.tls != nil {
		w.tlsAbort(c) // a handshake in progress stops (tls.go)
	}
	w.wheel.clear(c.slot)
	w.dropInput(c)
	if c.recvArmed {
		w.cancelOp(c, opRecv)
	}
	if c.sending {
		w.cancelOp(c, opSend)
	}
	w.maybeClose(c)
}

// maybeClose submits the close of a closing connection once no other op is
// in flight for it (the kernel would otherwise keep the socket alive for
// them).
func (w *Worker) maybeClose(c *conn) {
	if c.state != stateClosing || c.inflight != 0 || c.closeSent {
		return
	}
	sqe := w.ring.GetSQE()
	sqe.PrepClose(c.fd)
	sqe.SetUserData(uint64(pack(opClose, c.gen, c.slot)))
	c.closeSent = true
	c.inflight++
}

// onCancel: cancels target a recv (pause, close) or a send (close). Errno
// table: 0 (cancelled), ENOENT (it had already completed), EALREADY (it is
// completing) are all fine: its own CQE tells the rest. Anything else is a
// bug, logged.
func (w *Worker) onCancel(c *conn, res int32) {
	c.inflight--
	if c.cancels > 0 {
		c.cancels--
	}
	switch e := unix.Errno(-res); {
	case res >= 0, e == unix.ENOENT, e == unix.EALREADY:
	default:
		w.unexpected(opCancel, res)
	}
	w.maybeClose(c)
}

// linger starts the lingering close of a draining connection whose output
// is all sent: shutdown(SHUT_WR) so the client sees EOF after the last
// response, then read and discard until its EOF or lingerTime.
func (w *Worker) linger(c *conn) {
	if c.tls != nil && w.tlsLinger(c) {
		return // close_notify first (tls_send.go)
	}
	c.state = stateLingering
	w.dropInput(c)
	if w.shutdownOp {
		sqe := w.ring.GetSQE()
		sqe.PrepShutdown(c.fd, unix.SHUT_WR)
		sqe.SetUserData(uint64(pack(opShutdown, c.gen, c.slot)))
		c.inflight++
	} else if !w.shutdownDone(unix.Shutdown(int(c.fd), unix.SHUT_WR)) {
		// Linux 5.10 has no IORING_OP_SHUTDOWN (EINVAL: every lingering
		// close would fail and reset). shutdown(2) on a socket does not
		// block: it queues the FIN.
		w.beginClose(c)
		return
	}
	w.wheel.setAt(c.slot, w.nowTick+w.ticksFor(lingerTime))
	if w.wantsRecv(c) {
		w.armRecv(c)
	}
}

// onShutdown: ENOTCONN (the client is gone) and success are both fine; any
// other errno is logged and closes. Otherwise the linger timeout or EOF does.
func (w *Worker) onShutdown(c *conn, res int32) {
	c.inflight--
	var err error
	if res < 0 {
		err = unix.Errno(-res)
	}
	if !w.shutdownDone(err) {
		w.beginClose(c)
	}
	w.maybeClose(c)
}

// shutdownDone reports whether the lingering close may go on after its
// shutdown(SHUT_WR) (the op's or the syscall's) ended with err.
func (w *Worker) shutdownDone(err error) bool {
	switch err {
	case nil, unix.ENOTCONN, unix.ECONNRESET, unix.EPIPE:
		return true
	}
	e, _ := err.(unix.Errno)
	w.unexpected(opShutdown, -int32(e))
	return false
}

// onClose frees the slot: no op is in flight (maybeClose waited), so no CQE
// can name this generation any more. Errno table: success; EINTR is not
// retried (the fd is gone either way, as in Go's poll.FD); EBADF is a bug.
func (w *Worker) onClose(c *conn, res int32) {
	c.inflight--
	if res < 0 && unix.Errno(-res) != unix.EINTR {
		w.unexpected(opClose, res)
	}
	if c.out != nil {
		w.pool.put(c.out)
		c.out = nil
	}
	if c.pinned != nil {
		w.pool.put(c.pinned)
		c.pinned = nil
	}
	w.dropInput(c)
	if c.tls != nil {
		w.tlsRelease(c)
	}
	w.wheel.clear(c.slot)
	w.conns.release(c)
	w.stats.c[cOpen] = uint64(w.conns.open)
	if w.mode != runServing {
		w.checkRun()
	}
}

package worker

import (
	"fmt"
	"strings"

	"github.com/uringd/uringd/internal/engine"

	"golang.org/x/sys/unix"
)

// armWakeup reads the eventfd through the ring: another goroutine (Shutdown)
// writes it to make the loop look at w.run.
func (w *Worker) armWakeup() {
	sqe := w.ring.GetSQE()
	sqe.PrepRead(int32(w.efd), w.efdBuf[:], 0)
	sqe.SetUserData(uint64(pack(opWakeup, 0, 0)))
	w.wakeArmed = true
}

// onWakeup: success or EINTR/EAGAIN re-arm; ECANCELED is our cancel at exit;
// anything else is logged (and the tick still polls w.run).
func (w *Worker) onWakeup(res int32) {
	w.wakeArmed = false
	w.drainOffload(true) // detached responses' bytes (offload.go)
	w.drainTLS()         // handshakes with output or done (tls.go)
	switch e := unix.Errno(-res); {
	case res >= 0, e == unix.EINTR, e == unix.EAGAIN:
	case e == unix.ECANCELED:
		return
	default:
		w.unexpected(opWakeup, res)
	}
	if !w.exiting {
		w.armWakeup()
	}
	w.checkRun()
}

// checkRun applies a shutdown request, and ends the loop once draining is
// complete. Called on wakeup and on every tick.
func (w *Worker) checkRun() {
	if m := w.run.Load(); m != w.mode {
		if m == runForce {
			w.logHolders()
		}
		w.mode = m
		w.stopAccepting()
		w.holdFresh = false // drainConn sets it if it keeps a fresh connection
		if m == runDraining {
			w.tlsDrain() // connections served on goroutines (tls_goroutine.go)
		}
		for _, c := range w.conns.conns {
			w.drainConn(c, m == runForce)
		}
	}
	if w.mode == runServing || w.acceptArmed {
		return
	}
	if w.lfd >= 0 {
		// No accept in flight any more: close the listener now, so that
		// new clients are refused instead of waiting in the backlog.
		unix.Close(w.lfd)
		w.lfd = -1
	}
	if !w.exiting && w.conns.open == 0 {
		w.exit()
	}
}

// stopAccepting cancels the accept; checkRun closes the listener when its
// last CQE is in.
func (w *Worker) stopAccepting() {
	if w.acceptArmed {
		w.cancel(pack(opAccept, 0, 0), pack(opListenerClose, 0, 0))
	}
}

// sweepFresh closes, at a tick of a graceful shutdown, the fresh
// connections kept by drainConn that have stayed silent for
// engine.FreshHold since their accept.
func (w *Worker) sweepFresh() {
	w.holdFresh = false
	for _, c := range w.conns.conns {
		w.drainConn(c, false)
	}
}

// drainConn applies a shutdown to one connection: a connection with nothing
// in progress is closed, unless it has sent nothing yet and was accepted
// less than engine.FreshHold ago (then sweepFresh comes back for it); one
// with a request partly read or a response not yet sent finishes it (its
// response says Connection: close) and then closes. force closes every
// connection now.
func (w *Worker) drainConn(c *conn, force bool) {
	switch {
	case c.state == stateFree || c.state == stateClosing:
	case force:
		w.beginClose(c)
	case c.state != stateOpen:
		// draining or lingering already: closes by itself
	case c.tls != nil && c.tls.served:
		// its goroutine finishes and closes it (tlsDrain)
	case c.pending() == 0 && c.in == nil && c.stream == nil && (c.tls == nil || c.tls.raw == nil && !(c.tls.kernel && ktlsInputPending(c))):
		// Idle: nothing buffered, not even part of a TLS record (in
		// the worker's buffer, or in the kernel's under kernel TLS).
		// reqStart of a connection that never sent a byte is its accept
		// (of a TLS one, the end of its handshake). got, not rx: a
		// handshake under way when the shutdown begins is closed at once
		// (its client is stalled, or can retry a connection that never
		// answered); but one held as fresh that then starts its handshake
		// is on its way to its first request, and stays held until that
		// request's plaintext comes (rx).
		fresh := !c.got || c.heldFresh && c.rx == 0
		if fresh && w.nowTick < c.reqStart+uint64(engine.FreshHold/w.tick)+2 {
			c.heldFresh = true
			w.holdFresh = true
			return
		}
		if c.tls != nil && w.tlsCloseIdle(c) {
			return
		}
		w.beginClose(c)
	}
}

// exit starts the last phase: cancel the timer and the wakeup read; the
// loop returns when their CQEs are in.
func (w *Worker) exit() {
	w.exiting = true
	if w.timerArmed {
		w.cancel(pack(opTimer, 0, 0), pack(opListenerClose, 0, 0))
	}
	if w.wakeArmed {
		w.cancel(pack(opWakeup, 0, 0), pack(opListenerClose, 0, 0))
	}
}

// quiet reports whether no op of the worker is in flight any more: the
// loop may return and the ring close.
func (w *Worker) quiet() bool {
	return !w.timerArmed && !w.wakeArmed && !w.acceptArmed && w.conns.open == 0 && w.slotless == 0 && w.off.kicks == 0
}

// logHolders reports what kept a graceful shutdown from finishing in time.
func (w *Worker) logHolders() {
	var b strings.Builder
	n := 0
	for _, c := range w.conns.conns {
		if c.state == stateFree || n >= 20 {
			continue
		}
		n++
		fmt.Fprintf(&b, " [slot %d %v inflight=%d recv=%v send=%v pending=%d in=%d]",
			c.slot, c.state, c.inflight, c.recvArmed, c.sending, c.pending(), len(c.in))
	}
	w.log.Warn("shutdown deadline passed; closing connections", "open", w.conns.open,
		"accept_armed", w.acceptArmed, "exiting", w.exiting, "refused_in_flight", w.slotless, "conns", b.String())
}

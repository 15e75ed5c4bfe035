package worker

import "golang.org/x/sys/unix"

// queueSend schedules c's output to go out at the end of the loop turn, so
// that all responses produced for c in one turn (pipelining) share one send.
func (w *Worker) queueSend(c *conn) {
	if !c.sending && !c.sendQueued {
		c.sendQueued = true
		w.sendQ = append(w.sendQ, c.slot)
	}
}

// armSend submits one send of everything c has not sent yet. Only one send
// is in flight per connection: out[sent:sendEnd] is pinned until its CQE,
// and responses produced meanwhile are appended after it.
func (w *Worker) armSend(c *conn) {
	if c.userTLS() {
		w.tlsArmSend(c) // sealed first (tls_send.go)
		return
	}
	sqe := w.ring.GetSQE()
	sqe.PrepSend(c.fd, c.out[c.sent:], unix.MSG_NOSIGNAL)
	sqe.SetUserData(uint64(pack(opSend, c.gen, c.slot)))
	c.sending = true
	c.sendEnd = len(c.out)
	c.inflight++
	w.setDeadline(c, timeoutWrite)
}

// onSend handles a send CQE. Errno table:
//
//	progress (res > 0): advance; send the rest (partial send) or what was
//	    produced meanwhile; when all is out, free the buffer, resume reading
//	close: res == 0 (no progress: io.ErrUnexpectedEOF), EPIPE, ECONNRESET,
//	    ETIMEDOUT, ENOTCONN, EHOSTUNREACH, ENETUNREACH, ENETDOWN, ECANCELED
//	retry: EINTR, EAGAIN (resubmit the same bytes)
//	bug (logged, close): anything else
func (w *Worker) onSend(c *conn, res int32) {
	if c.userTLS() && w.tlsOnSend(c, &res) {
		return // the rest of the wire, or a send of TLS's own (tls_send.go)
	}
	c.sending = false
	c.inflight--
	if c.pinned != nil {
		w.pool.put(c.pinned)
		c.pinned = nil
	}
	if c.state == stateClosing {
		w.maybeClose(c)
		return
	}
	switch e := unix.Errno(-res); {
	case res > 0:
		w.stats.add(cBytesOut, uint64(res))
		c.sent += int(res)
		w.streamSent(c, int(res)) // a detached response's producer may go on
		w.sent(c)
		if c.tls != nil {
			w.tlsTryKernel(c) // all sealed records out: kernel TLS may take over (ktls.go)
		}
	case e == unix.EINTR || e == unix.EAGAIN:
		w.queueSend(c)
	case res == 0, e == unix.EPIPE, e == unix.ECONNRESET, e == unix.ETIMEDOUT, e == unix.ENOTCONN,
		e == unix.EHOSTUNREACH, e == unix.ENETUNREACH, e == unix.ENETDOWN, e == unix.ECANCELED:
		w.stats.inc(cSendErrors)
		w.beginClose(c)
	default:
		w.stats.inc(cSendErrors)
		w.unexpected(opSend, res)
		w.beginClose(c)
	}
}

// sent follows a send's progress.
func (w *Worker) sent(c *conn) {
	if c.pending() > 0 {
		w.queueSend(c) // partial send, or responses produced meanwhile
		w.setDeadline(c, timeoutWrite)
		return
	}
	w.releaseHeld(c)
	w.pool.put(c.out)
	c.out, c.sent, c.sendEnd = nil, 0, 0
	switch c.state {
	case stateDraining:
		w.linger(c)
	case stateOpen:
		if w.mode != runServing && c.in == nil && c.stream == nil {
			if c.tls == nil || !w.tlsCloseIdle(c) {
				w.beginClose(c) // shutting down: its last response is out
			}
			return
		}
		if c.paused {
			w.resume(c)
		}
		if c.state == stateOpen && c.pending() == 0 {
			w.readDeadline(c)
		}
	}
}

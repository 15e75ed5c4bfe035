package worker

import (
	"github.com/uringd/uringd/tlsrecord"
	"golang.org/x/sys/unix"
)

// The send side of TLS connections (see tls.go). c.out holds plaintext as
// on any connection, with the same accounting (sent, sendEnd, pending): a
// TLS connection's send seals c.out[sent:] into its wire buffer and sends
// that, and only once the whole wire is out does the send count as having
// sent those plaintext bytes, so backpressure and a detached response's
// credit work as over cleartext. Bytes of TLS's own (handshake output,
// alerts, close_notify) go out as wire-only sends that move nothing in
// c.out.

// tlsArmSend is armSend for a TLS connection: seal what c has not sent and
// send it with whatever the wire holds already.
func (w *Worker) tlsArmSend(c *conn) {
	tc := c.tls
	switch {
	case tc.failed:
		if !tc.alerted {
			w.tlsSendAlert(c)
		}
		return
	case tc.rec == nil || tc.closeAfter:
		return // no plaintext before the handshake ends, nor after a failure
	}
	p := c.out[c.sent:]
	w.wireReserve(tc, len(p)+(len(p)/tlsrecord.MaxPlaintext+3)*tlsrecord.Overhead+8)
	wire, err := tc.rec.Seal(tc.wire, p)
	if err != nil {
		tc.wire = wire[:tc.wsent] // nothing of this seal goes out
		w.tlsRecordErr(c, err)
		return
	}
	tc.wire = wire
	tc.plain = len(p)
	c.sendEnd = len(c.out)
	c.sending = true
	c.inflight++
	w.setDeadline(c, timeoutWrite)
	w.tlsSubmit(c)
}

// tlsSendWire starts a wire-only send of what the wire holds, if anything
// and no send is in flight.
func (w *Worker) tlsSendWire(c *conn) {
	tc := c.tls
	if c.sending || len(tc.wire) == tc.wsent {
		return
	}
	tc.plain = 0
	c.sending = true
	c.inflight++
	w.setDeadline(c, timeoutWrite)
	w.tlsSubmit(c)
}

// tlsSubmit submits the send of the wire's unsent bytes; the caller has
// accounted for it (sending, inflight).
func (w *Worker) tlsSubmit(c *conn) {
	tc := c.tls
	sqe := w.ring.GetSQE()
	sqe.PrepSend(c.fd, tc.wire[tc.wsent:], unix.MSG_NOSIGNAL)
	sqe.SetUserData(uint64(pack(opSend, c.gen, c.slot)))
}

// wireReserve makes room for n more bytes in the wire; only with no send
// in flight (a send pins the wire).
func (w *Worker) wireReserve(tc *tlsConn, n int) {
	need := len(tc.wire) + n
	if cap(tc.wire) >= need {
		return
	}
	nb := w.pool.get(max(need, outBufSize))
	nb = append(nb, tc.wire...)
	if tc.wire != nil {
		w.pool.put(tc.wire)
	}
	tc.wire = nb
}

// wireAppend appends b to the wire (no send in flight).
func (w *Worker) wireAppend(tc *tlsConn, b []byte) {
	w.wireReserve(tc, len(b))
	tc.wire = append(tc.wire, b...)
}

// tlsOnSend is onSend's hook for a TLS connection. A partial send sends
// the rest of the wire; once the wire is out, a send that carried
// plaintext goes on in onSend with *res set to the plaintext's length,
// and a wire-only send is finished here (true: onSend does nothing more).
// Failures and closing connections are onSend's.
func (w *Worker) tlsOnSend(c *conn, res *int32) bool {
	tc := c.tls
	if c.state == stateClosing || *res == 0 {
		return false
	}
	if *res < 0 {
		if e := unix.Errno(-*res); e == unix.EINTR || e == unix.EAGAIN {
			w.tlsSubmit(c) // the same bytes again; still one send in flight
			return true
		}
		return false
	}
	w.stats.add(cBytesOut, uint64(*res))
	tc.wsent += int(*res)
	if tc.wsent < len(tc.wire) {
		w.tlsSubmit(c)
		w.setDeadline(c, timeoutWrite)
		return true
	}
	plain := tc.plain
	tc.wsent, tc.plain = 0, 0
	w.pool.put(tc.wire)
	tc.wire = nil
	if plain > 0 && !tc.failed {
		*res = int32(plain)
		w.stats.add(cBytesOut, ^uint64(*res-1)) // onSend counts the plaintext again
		return false
	}
	c.sending = false
	c.inflight--
	if c.pinned != nil {
		w.pool.put(c.pinned)
		c.pinned = nil
	}
	w.tlsWireSent(c)
	return true
}

// tlsWireSent: a wire-only send is out (or a send after a failure).
func (w *Worker) tlsWireSent(c *conn) {
	tc := c.tls
	switch {
	case tc.failed && !tc.alerted:
		w.tlsSendAlert(c)
	case tc.failed || tc.closeAfter:
		w.beginClose(c)
	case tc.hs != nil:
		w.tlsPump(c)
		switch {
		case c.sending || c.state != stateOpen:
		case tc.served:
			w.wheel.clear(c.slot) // the goroutine's deadlines rule
		default:
			w.readDeadline(c)
		}
	case c.pending() > 0:
		w.queueSend(c)
	case c.state == stateDraining:
		w.linger(c)
	case c.state == stateOpen:
		w.readDeadline(c)
	}
	w.tlsTryKernel(c)
}

// tlsCloseIdle closes an idle connection on the record path (the idle
// timeout, a shutdown) as the last response's close does, through linger:
// close_notify first, so that the client can tell the close from a
// truncation (RFC 8446 section 6.1). false: c has no record layer in a
// state to send one (a handshake, a failure, a goroutine's connection, a
// send in flight); close it at once. A kernel TLS connection has no
// record layer left but sends its close_notify the same way (ktlsLinger).
func (w *Worker) tlsCloseIdle(c *conn) bool {
	tc := c.tls
	if (tc.rec == nil && !tc.kernel) || tc.served || tc.failed || tc.closeAfter || tc.notified || c.state != stateOpen || c.sending {
		return false
	}
	c.state = stateDraining
	w.linger(c)
	return true
}

// tlsLinger is linger's hook: before the write side is shut, the
// connection's close_notify goes out (true: linger runs again once it
// is). After a failure, the alert and the close instead.
func (w *Worker) tlsLinger(c *conn) bool {
	tc := c.tls
	switch {
	case tc.kernel:
		w.ktlsLinger(c)
		return false
	case tc.failed:
		if !tc.alerted {
			w.tlsSendAlert(c)
		} else {
			w.beginClose(c)
		}
		return true
	case tc.rec == nil || tc.notified:
		return false
	}
	tc.notified = true
	w.wireReserve(tc, tlsrecord.Overhead+2)
	tc.wire = tc.rec.AppendCloseNotify(tc.wire)
	if len(tc.wire) == tc.wsent {
		return false
	}
	w.tlsSendWire(c)
	return true
}

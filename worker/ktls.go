package worker

import (
	"errors"

	"github.com/uringd/uringd/internal/ktls"
	"golang.org/x/sys/unix"
)

// Kernel TLS (Config.KTLS, where internal/ktls probes the tls module).
//
// A TLS 1.3 connection starts on the userland record layer like any other
// (tls.go) and is handed to the kernel at its first quiet point: the recv
// is cancelled when the handshake ends (tlsKernelWait), and once no recv
// is in flight, every byte received has been opened or sits in raw; once
// no send is in flight and the wire is empty, every record sealed is out.
// Then the record layer's keys and sequence numbers go to the kernel
// (TLS_TX and TLS_RX together), and from there on the connection is a
// cleartext one to the worker: recv and send carry plaintext, sendfile
// works. If a record is half received at that point (raw), or the record
// layer is not in a state the kernel can carry on (tlsrecord.Export), the
// connection stays on the userland path: both directions or neither.
//
// Records that are not application data fail a recv with EIO; the loop
// reads them with recvmsg (ktlsRecord). Linux 6.1 cannot rekey a kTLS
// receive side, so the client's KeyUpdate ends the connection cleanly
// (what it asked before is answered, then close_notify and close).

// tlsKernelWait starts the wait for c's quiet point, after its handshake:
// the recv stops (wantsRecv is false meanwhile).
func (w *Worker) tlsKernelWait(c *conn) {
	if !w.cfg.KTLS || !ktls.Available().Supports(c.tls.rec.Suite()) {
		return
	}
	c.tls.kwant = true
	if c.recvArmed && c.cancels == 0 {
		w.cancelOp(c, opRecv)
	}
}

// tlsTryKernel hands c to kernel TLS if it is at its quiet point; called
// wherever a recv or a send of a waiting connection ends.
func (w *Worker) tlsTryKernel(c *conn) {
	tc := c.tls
	if tc == nil || !tc.kwant || c.recvArmed || c.sending || len(tc.wire) > 0 || c.state == stateClosing {
		return
	}
	tc.kwant = false
	if c.state == stateOpen && !tc.failed && !tc.eof && !tc.closeAfter && tc.raw == nil {
		w.tlsKernel(c)
	}
	if c.state != stateClosing && !c.rearmQueued && w.wantsRecv(c) {
		w.armRecv(c)
	}
}

// tlsKernel moves c's record protection into the kernel.
func (w *Worker) tlsKernel(c *conn) {
	tc := c.tls
	rd, wr, err := tc.rec.Export()
	if err != nil {
		return
	}
	rx := ktls.Keys{Key: rd.Key, IV: rd.IV, Seq: rd.Seq}
	tx := ktls.Keys{Key: wr.Key, IV: wr.IV, Seq: wr.Seq}
	err = ktls.Enable(int(c.fd), tc.rec.Suite(), &rx, &tx)
	clear(rd.Key)
	clear(wr.Key)
	switch {
	case errors.Is(err, ktls.ErrHalf):
		w.log.Warn("kernel TLS took the send keys but not the receive keys; closing", "err", err.Error())
		w.beginClose(c)
		return
	case err != nil:
		w.log.Debug("kernel TLS refused the keys; the userland record layer goes on", "err", err.Error())
		return
	}
	tc.kernel = true
	tc.rec = nil // its keys are the kernel's now; it must not seal or open again
	w.stats.inc(cKTLSConns)
}

// userTLS: c's records are the worker's to seal and open (a TLS
// connection not handed to the kernel).
func (c *conn) userTLS() bool { return c.tls != nil && !c.tls.kernel }

// ktlsRecvErr is onRecv's hook for an error on a kTLS connection's recv;
// false when it is not one of kTLS's.
func (w *Worker) ktlsRecvErr(c *conn, e unix.Errno) bool {
	switch e {
	case unix.EIO: // a record that is not application data is next
		w.ktlsRecord(c)
	case unix.EBADMSG, unix.EMSGSIZE: // a record failed to open, or is too long
		w.stats.inc(cBadRequests)
		w.log.Debug("kernel TLS refused a record; closing", "err", e.Error())
		w.beginClose(c)
	default:
		return false
	}
	return true
}

// ktlsRecord reads the record that made a recv fail and acts on it.
func (w *Worker) ktlsRecord(c *conn) {
	buf := w.pool.get(maxRecordLen)
	defer w.pool.put(buf)
	typ, n, err := ktls.ReadRecord(int(c.fd), buf[:cap(buf)])
	p := buf[:n]
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		// Nothing there after all: the recv is re-armed.
	case err != nil:
		w.stats.inc(cRecvErrors)
		w.log.Debug("kernel TLS record unreadable; closing", "err", err.Error())
		w.beginClose(c)
	case typ == ktls.RecordData: // data after all (a recv raced it)
		w.stats.add(cBytesIn, uint64(n))
		w.consumeHTTP(c, p)
	case typ == ktls.RecordAlert && n == 2 && p[1] == 0: // close_notify
		w.ktlsEndInput(c)
	case typ == ktls.RecordAlert && n == 2 && p[1] == 90: // user_canceled: not fatal
	case typ == ktls.RecordAlert: // a fatal alert (or a malformed one): nothing is sent back
		w.log.Debug("TLS alert from the client; closing", "record", p)
		w.beginClose(c)
	case typ == ktls.RecordHandshake && n >= 1 && p[0] == 24: // KeyUpdate
		// Its next records are under a key the kernel cannot take (Linux
		// 6.1 has no receive rekey): end the input here, as at an EOF,
		// so what came before is answered and close_notify goes out.
		w.log.Debug("TLS KeyUpdate from the client on a kernel TLS connection: closing it cleanly (the kernel cannot rekey)")
		w.ktlsEndInput(c)
	default: // a NewSessionTicket, a ChangeCipherSpec, ...: unexpected_message
		w.stats.inc(cBadRequests)
		_ = ktls.SendAlert(int(c.fd), 2, 10)
		c.tls.notified = true
		w.beginClose(c)
	}
}

// ktlsEndInput: the client's input is over (its close_notify, or a
// KeyUpdate). With nothing left to send, our close_notify goes out now,
// before the close (RFC 8446 section 6.1: each side closes its write side
// with one); otherwise it follows the last response (linger).
func (w *Worker) ktlsEndInput(c *conn) {
	c.tls.eof = true
	if c.state == stateOpen && c.pending() == 0 && c.stream == nil {
		w.ktlsLinger(c)
	}
	w.peerClosed(c)
}

// ktlsLinger sends a kTLS connection's close_notify (tlsLinger's case):
// one alert record through sendmsg, on the loop, without waiting: linger
// runs once all output is out, so the socket buffer has room.
func (w *Worker) ktlsLinger(c *conn) {
	if tc := c.tls; !tc.notified {
		tc.notified = true
		if err := ktls.SendAlert(int(c.fd), 1, 0); err != nil {
			w.log.Debug("kernel TLS close_notify not sent", "err", err.Error())
		}
	}
}

// ktlsInputPending reports whether the kernel holds input of c that no
// recv has brought yet: part of a record, which kernel TLS keeps in the
// TCP receive queue until the record is whole (SIOCINQ counts it). A
// drain must not take such a connection for idle (drainConn).
func ktlsInputPending(c *conn) bool {
	n, err := unix.IoctlGetInt(int(c.fd), unix.SIOCINQ)
	return err == nil && n > 0
}

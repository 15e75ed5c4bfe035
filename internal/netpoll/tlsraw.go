package netpoll

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// recordHeaderLen is a TLS record header's length: type, version, and the
// length of the record's body.
const recordHeaderLen = 5

// rawConn is the socket under the netpoll engine's own tls.Conn. crypto/tls
// reads the socket itself and keeps what it read of a record until the
// record is whole, out of sight of a graceful shutdown: a connection whose
// request is half in would look idle and be closed. rawConn follows the
// record framing of what crypto/tls reads (a header, then as many bytes as
// it says), so the shutdown can tell a connection between records (idle)
// from one with part of a record in (its request may be in it: held), and
// when its first byte came (before the shutdown: not fresh). Records
// crypto/tls read ahead whole need no look: its next read returns them
// without the socket, whatever the deadline (fill).
type rawConn struct {
	net.Conn
	pre      []byte       // read before the socket: what the PROXY header's read took beyond it
	draining *atomic.Bool // the server's

	mu    sync.Mutex // the read path's state against Shutdown's wake
	need  int        // bytes of the current record's body still to come
	nhdr  int        // bytes of the next record's header read so far
	hdr   [recordHeaderLen]byte
	got   bool      // a byte was read
	early bool      // the first byte came before the shutdown began
	dl    time.Time // the read deadline the connection set
	woken bool      // wake moved the read deadline to the past since dl
}

func newRawConn(nc net.Conn, pre []byte, draining *atomic.Bool) *rawConn {
	return &rawConn{Conn: nc, pre: pre, draining: draining}
}

func (r *rawConn) Read(b []byte) (int, error) {
	var n int
	var err error
	if len(r.pre) > 0 {
		n = copy(b, r.pre)
		r.pre = r.pre[n:]
	} else {
		n, err = r.Conn.Read(b)
	}
	if n > 0 {
		r.mu.Lock()
		r.scan(b[:n])
		if !r.got {
			r.got, r.early = true, !r.draining.Load()
		}
		if r.woken && r.partial() {
			// wake came while these bytes were on their way up: the rest
			// of their record is due under the connection's own deadline.
			r.Conn.SetReadDeadline(r.dl)
			r.woken = false
		}
		r.mu.Unlock()
	}
	return n, err
}

// scan follows the record framing over b, the bytes just read.
func (r *rawConn) scan(b []byte) {
	for len(b) > 0 {
		if r.need > 0 {
			k := min(r.need, len(b))
			r.need -= k
			b = b[k:]
			continue
		}
		k := copy(r.hdr[r.nhdr:], b)
		r.nhdr += k
		b = b[k:]
		if r.nhdr == recordHeaderLen {
			r.need, r.nhdr = int(r.hdr[3])<<8|int(r.hdr[4]), 0
		}
	}
}

// partial reports whether part of a record (of its header, or of its
// body) is read and the rest is not: crypto/tls holds it, and its read
// waits for the rest. r.mu is held.
func (r *rawConn) partial() bool { return r.need > 0 || r.nhdr > 0 }

// InputPending reports whether crypto/tls holds part of a record read from
// the socket (inputPending).
func (r *rawConn) InputPending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.partial()
}

// receivedEarly reports whether a byte came before the shutdown began: a
// connection in its handshake then is not fresh.
func (r *rawConn) receivedEarly() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.early
}

// wake ends a read waiting between records (Shutdown, for an idle
// connection): it moves the read deadline to the past, unless part of a
// record is in. Checked and set under r.mu, with Read's framing: bytes
// that a read returns as wake comes make Read restore the deadline.
func (r *rawConn) wake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.partial() {
		return
	}
	r.woken = true
	r.Conn.SetReadDeadline(time.Unix(1, 0))
}

func (r *rawConn) SetReadDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dl, r.woken = t, false
	return r.Conn.SetReadDeadline(t)
}

func (r *rawConn) SetDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dl, r.woken = t, false
	return r.Conn.SetDeadline(t)
}

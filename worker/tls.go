package worker

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/internal/netpoll"
	"github.com/uringd/uringd/tlsrecord"
	"golang.org/x/sys/unix"
)

// TLS on the ring.
//
// The worker keeps all socket I/O on its ring; crypto/tls never touches the
// socket and never runs on the loop. On accept (Config.TLSAcceptor set) a
// connection gets a tlsConn and its handshake starts on a goroutine of its
// own (tlsrecord.Acceptor.Start) over an in-memory transport: the worker
// feeds it what recv brings (tlsFirstBytes) and sends what it outputs. The
// handshake goroutine wakes the loop through the worker's eventfd, the one
// the offload path uses, with its own inbox (tlsInbox): the loop is never
// polling and never waits for it.
//
// After a TLS 1.3 handshake with one of RFC 8446's AEAD suites, the worker
// protects records itself (tlsrecord.Conn): what recv brings is opened in
// place in the receive buffer (a record split across receives is stitched
// into a buffer of its own, raw) and its plaintext goes to the HTTP parse
// as cleartext bytes would (consumeHTTP); responses accumulate as plaintext
// in c.out like any other and are sealed into the connection's wire buffer
// when the send is armed (tls_send.go). Nothing but sealed records (and,
// before a handshake, crypto/tls's own output) ever reaches the socket.
// With Config.KTLS, a TLS 1.3 connection is then handed to kernel TLS at
// its first quiet point and is a plaintext connection to the worker from
// there on (ktls.go).
//
// Handshakes are bounded per worker (Config.MaxHandshakes: over it, the
// connection is closed at accept) and in time (the acceptor's timeout, and
// the header timeout, which runs from the accept).

// maxRecordLen is the longest TLS record on the wire: header, 2^14 bytes of
// plaintext and RFC 8446's 256 bytes of expansion.
const maxRecordLen = tlsrecord.HeaderLen + tlsrecord.MaxPlaintext + 256

// tlsWorker is a worker's TLS state.
type tlsWorker struct {
	active int             // handshakes in progress (bounded by Config.MaxHandshakes)
	np     *netpoll.Server // serves the connections without a record path (tls_goroutine.go); nil until one
	cur    *tlsConn        // the connection whose request is being served (serve), for TLSState
	in     tlsInbox        // wakes from handshake goroutines
	spare  []*tlsConn      // worker only: the other half of the inbox's double buffer

	npPub atomic.Pointer[netpoll.Server] // np, for Stats on other goroutines
}

// tlsInbox is where handshake goroutines post their connection when it has
// output or has finished. The eventfd is written by the post that makes the
// inbox non-empty; closed (teardown) stops posts, so that no write reaches
// an eventfd that is gone.
type tlsInbox struct {
	mu     sync.Mutex
	q      []*tlsConn
	posted bool
	closed bool
}

// tlsConn is one TLS connection's state, owned by the worker thread except
// woken, which the handshake goroutine sets.
type tlsConn struct {
	slot, gen uint32 // immutable: which use of which slot this is

	hs    *tlsrecord.Handshake // while the handshake runs; nil after it
	rec   *tlsrecord.Conn      // the record layer, after a TLS 1.3 handshake
	state *tls.ConnectionState // after the handshake (immutable): for handlers

	// raw is a record split across receives: its first bytes, waiting for
	// the rest (a pool buffer of maxRecordLen; nil when none).
	raw []byte
	// wire is what goes to the socket: wire[:wsent] went out, wire[wsent:]
	// is being sent or about to be (a pool buffer; nil when empty). plain
	// is how many bytes of c.out the records in it carry: they count as
	// sent once the whole wire is out.
	wire  []byte
	wsent int
	plain int

	scratch []byte // heap: handshake output and alerts on their way into wire
	fed     int    // handshake bytes fed so far (tlsFirstBytes)

	woken      atomic.Bool // a wake is in the inbox and not yet drained
	failed     bool        // the record layer failed: only its alert goes out, then close
	alerted    bool        // that alert was queued
	closeAfter bool        // close once the wire is out (failed handshake, plaintext 400)
	eof        bool        // the client's close_notify came: its input is over
	served     bool        // no record path: a goroutine serves the Conn over hs's transport (tls_goroutine.go)
	kwant      bool        // to be handed to kernel TLS at its next quiet point (ktls.go)
	kernel     bool        // the kernel protects its records (ktls.go): recv and send carry plaintext
	notified   bool        // our close_notify is queued
}

// TLSState is the TLS state of the connection whose request the worker is
// serving, for handlers on the loop; nil over cleartext. Not to be modified.
func (w *Worker) TLSState() *tls.ConnectionState {
	if t := w.tls.cur; t != nil {
		return t.state
	}
	return nil
}

// TLS is the TLS state of a detached response's connection; nil over
// cleartext.
func (s *Stream) TLSState() *tls.ConnectionState { return s.tls }

// tlsStateOf is c's TLS state, or nil.
func tlsStateOf(c *conn) *tls.ConnectionState {
	if c.tls == nil {
		return nil
	}
	return c.tls.state
}

// tlsAccept starts the handshake of a newly accepted connection; false
// when the worker has as many handshakes in progress as it may (c is then
// closing).
func (w *Worker) tlsAccept(c *conn) bool {
	if w.tls.active >= w.cfg.MaxHandshakes {
		w.stats.inc(cRejected)
		w.beginClose(c)
		return false
	}
	tc := &tlsConn{slot: c.slot, gen: c.gen}
	c.tls = tc
	local, remote := sockAddrs(c.fd)
	tc.hs = w.cfg.TLSAcceptor.Start(func() { w.tlsWake(tc) }, local, remote)
	w.tls.active++
	return true
}

// sockAddrs are a socket's two addresses as net.Addrs, for crypto/tls's
// ClientHelloInfo.Conn.
func sockAddrs(fd int32) (local, remote net.Addr) {
	conv := func(sa unix.Sockaddr, err error) net.Addr {
		var ap netip.AddrPort
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			ap = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *unix.SockaddrInet6:
			ap = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
		}
		return net.TCPAddrFromAddrPort(ap)
	}
	return conv(unix.Getsockname(int(fd))), conv(unix.Getpeername(int(fd)))
}

// tlsWake runs on the handshake goroutine: it posts tc to the worker.
func (w *Worker) tlsWake(tc *tlsConn) {
	if !tc.woken.CompareAndSwap(false, true) {
		return // already posted, not yet drained
	}
	in := &w.tls.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.q = append(in.q, tc)
	if !in.posted {
		in.posted = true
		w.wake()
	}
}

// closeTLSInbox runs at teardown, before the eventfd is closed.
func (w *Worker) closeTLSInbox() {
	w.tls.in.mu.Lock()
	w.tls.in.closed = true
	w.tls.in.mu.Unlock()
}

// drainTLS handles the wakes posted since the last drain (on every eventfd
// completion). A post for a connection that is gone is dropped.
func (w *Worker) drainTLS() {
	in := &w.tls.in
	in.mu.Lock()
	q := in.q
	in.q = w.tls.spare[:0]
	in.posted = false
	in.mu.Unlock()
	for i, tc := range q {
		q[i] = nil
		tc.woken.Store(false)
		c := w.conns.at(tc.slot)
		if c == nil || c.gen != tc.gen || c.tls != tc || c.state == stateFree {
			continue
		}
		w.tlsPump(c)
	}
	w.tls.spare = q[:0]
}

// tlsPump moves a handshake along: its output goes to the wire, and once it
// has finished, the connection switches to the record layer (or closes).
// Output is taken only with no send in flight (the wire is pinned by one);
// the send's completion pumps again.
func (w *Worker) tlsPump(c *conn) {
	tc := c.tls
	if tc.hs == nil || c.sending || c.state == stateClosing {
		return
	}
	if tc.served {
		w.tlsServedPump(c)
		return
	}
	tc.scratch = tc.hs.Output(tc.scratch[:0])
	if len(tc.scratch) > 0 {
		w.wireAppend(tc, tc.scratch)
	}
	if tc.hs.Done() {
		w.tlsHandshakeDone(c)
	}
	if c.state != stateClosing {
		w.tlsSendWire(c)
	}
}

// tlsHandshakeDone takes a finished handshake's result. Its last records
// are in the wire already (tlsPump took the output first), ahead of
// anything the record layer seals.
func (w *Worker) tlsHandshakeDone(c *conn) {
	tc := c.tls
	hs := tc.hs
	res, err := hs.Result()
	tc.hs = nil
	w.tls.active--
	switch {
	case err != nil:
		w.log.Debug("TLS handshake failed", "err", err.Error())
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			w.stats.inc(cTLSHsTimeouts)
		} else {
			w.stats.inc(cTLSHsFailed)
		}
		w.tlsCloseAfterWire(c)
		return
	}
	w.stats.inc(cTLSHandshakes + counter(engine.TLSVersionIndex(res.State.Version)))
	switch {
	case !res.Record: // TLS 1.2: on a goroutine
		w.tlsServe(c, hs, res)
		return
	}
	rec, err := tlsrecord.NewConn(res.Params)
	if err != nil {
		w.log.Warn("TLS record layer setup failed; closing", "err", err.Error())
		w.tlsCloseAfterWire(c)
		return
	}
	tc.rec, tc.state = rec, &res.State
	// The first request's head is due within HeaderTimeout of now.
	c.reqStart = w.nowTick
	w.tlsKernelWait(c)
	if len(res.Leftover) > 0 {
		w.tlsOpen(c, res.Leftover)
	}
	if c.state == stateOpen {
		w.readDeadline(c)
	}
	w.tlsTryKernel(c)
}

// tlsCloseAfterWire closes c once what the wire holds (an alert) is out.
func (w *Worker) tlsCloseAfterWire(c *conn) {
	tc := c.tls
	tc.closeAfter = true
	w.dropInput(c)
	if c.state == stateOpen {
		c.state = stateDraining // parse and read no more
	}
	if !c.sending && len(tc.wire) == tc.wsent {
		w.beginClose(c)
	}
}

// tlsConsume takes bytes recv brought for a TLS connection (consume's
// hook): handshake bytes, or records to open.
func (w *Worker) tlsConsume(c *conn, data []byte) {
	tc := c.tls
	switch {
	case c.state != stateOpen || tc.failed || tc.eof || tc.closeAfter:
		// Draining, lingering, failed: what the client sends is ignored.
	case tc.served:
		_ = tc.hs.Feed(data) // to the goroutine serving it (tls_goroutine.go)
	case tc.hs != nil:
		w.tlsFirstBytes(c, data)
	case tc.rec != nil:
		w.tlsOpen(c, data)
	}
}

// tlsFirstBytes is where a connection's first bytes go before its
// handshake is over: to crypto/tls. It is the one place that looks at them
// (a PROXY protocol header would be taken here, before the ClientHello):
// a connection that opens with a cleartext HTTP request rather than a TLS
// handshake record gets a cleartext 400.
func (w *Worker) tlsFirstBytes(c *conn, data []byte) {
	tc := c.tls
	if tc.fed == 0 && len(data) > 0 && data[0] != 22 && engine.LooksLikeHTTP(data) && !c.sending {
		w.stats.inc(cBadRequests)
		w.stats.inc(cTLSHsFailed)
		tc.hs.Close()
		tc.hs = nil
		w.tls.active--
		tc.scratch = engine.AppendPlainHTTPOnTLS(tc.scratch[:0], w.date.Bytes())
		w.wireAppend(tc, tc.scratch)
		w.tlsCloseAfterWire(c)
		w.tlsSendWire(c)
		return
	}
	tc.fed += len(data)
	// A failure (timeout, abort) shows as Done at the next wake.
	_ = tc.hs.Feed(data)
}

// tlsOpen opens the records in data (in place) and feeds their plaintext
// to the HTTP parse. A record split across receives is stitched in raw.
func (w *Worker) tlsOpen(c *conn, data []byte) {
	tc := c.tls
	if tc.raw != nil {
		var more bool
		if data, more = w.tlsStitch(c, data); !more {
			return
		}
	}
	for len(data) > 0 {
		plain, n, err := tc.rec.Open(data)
		if err != nil {
			w.tlsRecordErr(c, err)
			return
		}
		if n == 0 { // the start of a record: kept until its end comes
			tc.raw = append(w.pool.get(maxRecordLen), data...)
			return
		}
		data = data[n:]
		if len(plain) > 0 {
			w.consumeHTTP(c, plain)
			if c.state == stateClosing || tc.failed {
				return
			}
		}
	}
}

// tlsStitch completes the record in raw with the bytes of data it needs
// and opens it; it returns the rest of data and whether there is more to
// do. raw never holds more than one record (Open judges a header before
// its body is waited for, so a length past the limit fails at once).
func (w *Worker) tlsStitch(c *conn, data []byte) ([]byte, bool) {
	tc := c.tls
	for {
		plain, n, err := tc.rec.Open(tc.raw)
		if err != nil {
			w.tlsRecordErr(c, err)
			return nil, false
		}
		if n > 0 {
			if len(plain) > 0 {
				w.consumeHTTP(c, plain)
			}
			if c.state == stateClosing {
				return nil, false // raw is given back at the close (tlsRelease)
			}
			w.pool.put(tc.raw)
			tc.raw = nil
			return data, !tc.failed
		}
		want := tlsrecord.HeaderLen
		if len(tc.raw) >= want {
			want += int(tc.raw[3])<<8 | int(tc.raw[4])
		}
		k := min(want-len(tc.raw), len(data))
		if k == 0 {
			return nil, false
		}
		tc.raw = append(tc.raw, data[:k]...)
		data = data[k:]
	}
}

// tlsRecordErr handles a failed Open: the client's close_notify ends its
// input (its requests so far are still answered, as at a TCP EOF); any
// other failure sends the alert the record layer chose, if any, and closes.
func (w *Worker) tlsRecordErr(c *conn, err error) {
	tc := c.tls
	if err == io.EOF {
		tc.eof = true
		w.peerClosed(c)
		return
	}
	w.stats.inc(cBadRequests)
	w.stats.inc(cTLSBadRecords)
	w.log.Debug("TLS record refused; closing", "err", err.Error())
	tc.failed = true
	w.dropInput(c)
	if c.state == stateOpen {
		c.state = stateDraining
	}
	if !c.sending {
		w.tlsSendAlert(c)
	}
}

// tlsSendAlert sends the failed record layer's alert, then closes.
func (w *Worker) tlsSendAlert(c *conn) {
	tc := c.tls
	tc.alerted = true
	tc.closeAfter = true
	tc.wire, tc.wsent, tc.plain = tc.wire[:0], 0, 0 // nothing sealed before the failure is still owed
	a := tc.rec.AppendAlert(tc.scratch[:0])
	if len(a) == 0 {
		w.beginClose(c)
		return
	}
	w.wireAppend(tc, a)
	w.tlsSendWire(c)
}

// tlsAbort runs when c starts closing (beginClose): a handshake still in
// progress is abandoned (its goroutine ends) and counts as failed: the
// client went away or the server is stopping (a deadline's close counts
// it as timed out first, tlsExpired).
func (w *Worker) tlsAbort(c *conn) {
	if tc := c.tls; tc.hs != nil {
		tc.hs.Close()
		tc.hs = nil
		if !tc.served {
			w.tls.active--
			w.stats.inc(cTLSHsFailed)
		}
	}
}

// tlsExpired is expire's hook: a handshake still in progress when the
// connection's deadline passes timed out.
func (w *Worker) tlsExpired(c *conn) {
	if tc := c.tls; tc.hs != nil && !tc.served {
		tc.hs.Close()
		tc.hs = nil
		w.tls.active--
		w.stats.inc(cTLSHsTimeouts)
	}
}

// tlsRelease gives back c's TLS buffers once no op is in flight (onClose).
func (w *Worker) tlsRelease(c *conn) {
	tc := c.tls
	if tc.raw != nil {
		w.pool.put(tc.raw)
		tc.raw = nil
	}
	if tc.wire != nil {
		w.pool.put(tc.wire)
		tc.wire = nil
	}
	if w.tls.cur == tc {
		w.tls.cur = nil
	}
	c.tls = nil
}

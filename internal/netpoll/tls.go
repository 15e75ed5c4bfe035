package netpoll

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"time"

	"github.com/uringd/uringd/internal/engine"
)

// TLS on the netpoll engine is crypto/tls's own: each accepted connection
// is wrapped in tls.Server (track), and its goroutine runs the handshake
// first, under Config.HandshakeTimeout and the server's bound on
// handshakes in progress (Config.MaxHandshakes), then serves HTTP over the
// tls.Conn as over any net.Conn.

// startTLS wraps c's connection in tls.Server when the server speaks TLS.
// It runs on c's goroutine after the PROXY header, if any, was read from
// the raw connection: what the read took beyond the header (the start of
// the ClientHello) is given to crypto/tls first.
func (c *conn) startTLS() {
	if c.s.cfg.TLS == nil {
		return
	}
	var pre []byte
	if rest := (*c.in)[c.off:]; len(rest) > 0 {
		pre = append([]byte(nil), rest...)
	}
	*c.in, c.off = (*c.in)[:0], 0
	raw := newRawConn(c.nc, pre, &c.s.draining)
	c.mu.Lock() // Shutdown's closeIfIdle and closeAll read c.nc and c.raw
	c.raw = raw
	c.nc = tls.Server(raw, c.s.cfg.TLS)
	c.mu.Unlock()
}

// tlsHandshake runs c's handshake if c is a TLS connection; false: c is
// done (failed, timed out, or over the bound).
func (c *conn) tlsHandshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	if st := tc.ConnectionState(); st.HandshakeComplete {
		// Handed over after its handshake (ServeConn): none to bound, and
		// during a shutdown it was held as fresh, so it is served.
		c.tls = &st
		return true
	}
	s := c.s
	if s.hs != nil {
		select {
		case s.hs <- struct{}{}:
			defer func() { <-s.hs }()
		default:
			s.stats.rejected.Add(1)
			c.noLinger = true
			return false
		}
	}
	c.nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	// Idle for Shutdown: a client stalled mid-handshake has no request in
	// progress, and closeIfIdle's deadline ends its handshake. One that had
	// sent nothing when the shutdown began is fresh (closeIfIdle), and
	// goes on to its first request, which it cannot retry.
	fresh := !c.got && c.raw != nil
	if !c.setHandshaking(fresh) || s.draining.Load() && !fresh {
		c.noLinger = true
		return false
	}
	err := tc.Handshake()
	c.setIdle(false, false)
	c.nc.SetDeadline(time.Time{})
	if s.cfg.TLS != nil { // else the handshake was done elsewhere (ServeConn) and counted there
		c.countHandshake(tc, err)
	}
	if err != nil {
		c.noLinger = true
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && engine.LooksLikeHTTP(rhe.RecordHeader[:]) {
			rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			c.date.Update(time.Now())
			rhe.Conn.Write(engine.AppendPlainHTTPOnTLS(nil, c.date.Bytes()))
			s.stats.badRequests.Add(1)
		}
		return false
	}
	st := tc.ConnectionState()
	c.tls = &st
	return true
}

// setHandshaking marks c idle in its handshake, fresh if it had sent
// nothing when the shutdown began; false: c is closed.
func (c *conn) setHandshaking(fresh bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle, c.fresh, c.hs = true, fresh, true
	return !c.closed
}

// freshNow reports whether an idle c is fresh for Shutdown's hold: nothing
// received yet; in its handshake (the netpoll engine's own TLS), nothing
// received before the shutdown began. A connection held by the shutdown
// before its ClientHello came stays held through its handshake to its
// first request, as on io_uring (worker conn.heldFresh); one whose
// handshake was under way is closed at once. c.mu is held.
func (c *conn) freshNow() bool {
	return c.fresh && !(c.hs && c.raw.receivedEarly())
}

// wakeIdle is fill's look, during a shutdown, at a connection about to
// wait for a new request that is not fresh; false: close it now. Over the
// netpoll engine's own TLS the read goes on under wake's deadline:
// crypto/tls may hold a record it read ahead, or plaintext, which its read
// returns without the socket, and part of a record keeps the deadline.
func (c *conn) wakeIdle() bool {
	if c.raw != nil {
		c.raw.wake()
		return true
	}
	return inputPending(c.nc)
}

// countHandshake counts a handshake's outcome: a failure at Shutdown's
// deadline (closeIfIdle) is not a timeout.
func (c *conn) countHandshake(tc *tls.Conn, err error) {
	st := &c.s.stats
	switch {
	case err == nil:
		st.tlsHandshakes[engine.TLSVersionIndex(tc.ConnectionState().Version)].Add(1)
	case errors.Is(err, os.ErrDeadlineExceeded) && !c.s.draining.Load():
		st.tlsHsTimeouts.Add(1)
	default:
		st.tlsHsFailed.Add(1)
	}
}

// isTLSAlert reports whether a read failed because crypto/tls refused a
// record and sent an alert: it reports those as a "local error".
func isTLSAlert(err error) bool {
	oe, ok := errors.AsType[*net.OpError](err)
	return ok && oe.Op == "local error"
}

// TLSState is the connection's TLS state (engine.TLSStater); nil over
// cleartext.
func (c *conn) TLSState() *tls.ConnectionState { return c.tls }

// TLSState is the TLS state of the stream's connection.
func (s *Stream) TLSState() *tls.ConnectionState { return s.c.tls }

// ServeConn serves nc, a connection accepted elsewhere (the io_uring
// worker's TLS 1.2 connections: a crypto/tls Conn whose handshake is done,
// over the worker's in-memory transport), on a goroutine of its own, as if
// Serve had accepted it; it is refused like an accepted one over
// MaxConns. During a shutdown it is served as one accepted then (fresh:
// held for engine.FreshHold, its request answered with Connection: close).
func (s *Server) ServeConn(nc net.Conn) { s.track(nc) }

// inputPending reports whether nc is a TLS connection over a transport
// that holds bytes it received and crypto/tls has not yet returned as
// plaintext: part of a record read from the socket (rawConn, the netpoll
// engine's own TLS), or tlsrecord's transport (the io_uring worker's TLS
// 1.2 connections: the worker has received them, so the request they carry
// is in, not on its way). Such a connection is not idle even while its
// read waits: its read returns that request once crypto/tls has it all.
func inputPending(nc net.Conn) bool {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return false
	}
	p, ok := tc.NetConn().(interface{ InputPending() bool })
	return ok && p.InputPending()
}

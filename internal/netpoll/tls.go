package netpoll

import (
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// TLS on the netpoll engine is crypto/tls's own: each accepted connection
// is wrapped in tls.Server (track), and its goroutine runs the handshake
// first, under Config.HandshakeTimeout and the server's bound on
// handshakes in progress (Config.MaxHandshakes), then serves HTTP over the
// tls.Conn as over any net.Conn.

// response400TLS answers a cleartext HTTP request on the TLS port, as net/http does.
var response400TLS = []byte("HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" +
	"Client sent an HTTP request to an HTTPS server.\n")

// startTLS wraps c's connection in tls.Server when the server speaks TLS.
// It runs on c's goroutine after the PROXY header, if any, was read from
// the raw connection: what the read took beyond the header (the start of
// the ClientHello) is given to crypto/tls first.
func (c *conn) startTLS() {
	if c.s.cfg.TLS == nil {
		return
	}
	raw := c.nc
	if rest := (*c.in)[c.off:]; len(rest) > 0 {
		raw = &prefixConn{Conn: raw, pre: append([]byte(nil), rest...)}
	}
	*c.in, c.off = (*c.in)[:0], 0
	c.mu.Lock() // Shutdown's closeIfIdle and closeAll read c.nc
	c.nc = tls.Server(raw, c.s.cfg.TLS)
	c.mu.Unlock()
}

// prefixConn reads pre before the connection.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
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
	// progress, and closeIfIdle's deadline ends its handshake.
	if !c.setIdle(true, false) || s.draining.Load() {
		c.noLinger = true
		return false
	}
	err := tc.Handshake()
	c.setIdle(false, false)
	c.nc.SetDeadline(time.Time{})
	if err != nil {
		c.noLinger = true
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(rhe.RecordHeader[:]) {
			rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			rhe.Conn.Write(response400TLS)
			s.stats.badRequests.Add(1)
		}
		return false
	}
	st := tc.ConnectionState()
	c.tls = &st
	return true
}

// looksLikeHTTP: b opens with upper-case letters and a space or more
// letters, as a request line does.
func looksLikeHTTP(b []byte) bool {
	for i, x := range b {
		if x == ' ' {
			return i > 0
		}
		if x < 'A' || x > 'Z' {
			return false
		}
	}
	return len(b) > 0
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
// plaintext (tlsrecord's, for the io_uring worker's TLS 1.2 connections:
// the worker has received them, so the request they carry is in, not on
// its way). Such a connection is not idle even while its read waits: its
// read returns that request once crypto/tls has it all. Over a socket
// (the netpoll engine's own TLS) this cannot be seen and is false.
func inputPending(nc net.Conn) bool {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return false
	}
	p, ok := tc.NetConn().(interface{ InputPending() bool })
	return ok && p.InputPending()
}

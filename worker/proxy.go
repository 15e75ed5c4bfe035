package worker

import (
	"github.com/uringd/uringd/proxyproto"
)

// The PROXY protocol (Config.ProxyFrom): a connection accepted from an
// address in the list must begin with a PROXY header, v1 or v2, before its
// first request; the header's source address then stands for the client in
// RemoteAddr and the access log. A missing or malformed header closes the
// connection without an answer, as nginx does: the peer is a load balancer
// that speaks the protocol wrongly, not a client to answer. Connections from
// other addresses are served as they come (a header from them is a bad
// request to the HTTP parser).

// proxyExpected decides, at accept, whether c must begin with a header.
func (w *Worker) proxyExpected(c *conn) {
	if allow := w.cfg.ProxyFrom; allow != nil && allow.Contains(w.peer(c).Addr()) {
		c.proxyWait = true
	}
}

// proxyHeader reads c's PROXY header from data, the bytes just received.
// It returns what follows the header in data, for TLS or HTTP, or nil when
// there is nothing more to do with data now: the header is incomplete
// (stashed), or the connection was refused, or the header came in pieces
// and what followed it in c's input buffer was consumed already.
func (w *Worker) proxyHeader(c *conn, data []byte) []byte {
	buf := data
	if c.in != nil { // earlier pieces of the header
		if !w.stash(c, data) {
			return nil
		}
		buf = c.in
	}
	h, n, err := proxyproto.Parse(buf)
	if err == proxyproto.ErrIncomplete {
		if c.in == nil {
			w.stash(c, data)
		}
		return nil
	}
	if err != nil {
		w.stats.inc(cProxyRefused)
		w.dropInput(c)
		w.beginClose(c)
		return nil
	}
	c.proxyWait = false
	if h.HasAddrs() {
		c.peer, c.peerOK = h.Source, true
	}
	if c.in == nil {
		return data[n:]
	}
	// The header came in pieces: what follows it in c.in is consumed like
	// received bytes (the buffer goes back to the pool after, as a receive
	// buffer does).
	held := c.in
	c.in = nil
	w.chargeIn(c)
	if rest := held[n:]; len(rest) > 0 {
		w.consume(c, rest)
	}
	w.pool.put(held)
	return nil
}

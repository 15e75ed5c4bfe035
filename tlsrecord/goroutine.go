package tlsrecord

// After a handshake that has no record path (Result.Record false: TLS 1.2,
// or a suite this package does not implement), a goroutine serves the
// crypto/tls Conn in Result.TLS as it would a socket, while the loop goes
// on feeding it what the socket receives and sending its Output. These
// calls give that goroutine a socket's behaviour.

// LimitOutput makes the Conn's writes wait while n bytes of output are not
// yet taken by Output (backpressure: a client that does not read makes the
// writer wait, not the loop buffer without bound); 0: no bound.
func (h *Handshake) LimitOutput(n int) {
	t := h.t
	t.mu.Lock()
	t.outLimit = n
	t.cond.Broadcast()
	t.mu.Unlock()
}

// FeedEOF passes the socket's EOF: once what was fed is read, the Conn's
// reads return io.EOF.
func (h *Handshake) FeedEOF() {
	t := h.t
	t.mu.Lock()
	t.eof = true
	t.cond.Broadcast()
	t.mu.Unlock()
}

// ConnClosed reports whether the Conn was closed by its user (the serving
// goroutine): once Output is empty, the loop closes the socket. wake is
// called when that happens.
func (h *Handshake) ConnClosed() bool {
	t := h.t
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closedByConn
}

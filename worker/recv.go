package worker

import (
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// armRecv submits a recv for c that picks its buffer from the worker's
// group: multishot when the kernel has it (one SQE, a CQE per arrival),
// single-shot otherwise (re-armed after each CQE). A classic group may
// take a poll or a recv into c's own buffer instead (armClassic).
func (w *Worker) armRecv(c *conn) {
	sqe := w.ring.GetSQE()
	switch {
	case w.selectCap > 0 && (w.selArmed >= w.selectCap || c.noBufs || c.readable):
		w.armClassic(c, sqe)
	case w.multishotRecv && !streamingBody(c):
		sqe.PrepRecvMultishot(c.fd, bufGroupID)
		w.selArmed++
	case w.bodyRecv(c, sqe): // a long streamed body: one big receive (body.go)
	default:
		sqe.PrepRecvSelect(c.fd, bufGroupID, 0)
		w.selArmed++
	}
	sqe.SetUserData(uint64(pack(opRecv, c.gen, c.slot)))
	c.recvArmed = true
	c.inflight++
}

// wantsRecv: reading continues while the connection is open and not paused
// for backpressure, and while lingering (to see the client's EOF), until
// the client's EOF (after it, a recv would only see EOF again).
func (w *Worker) wantsRecv(c *conn) bool {
	if c.recvArmed || c.peerEOF && c.state != stateLingering {
		return false
	}
	if c.tls != nil && c.tls.kwant {
		return false // until it is handed to kernel TLS (ktls.go)
	}
	if c.stream != nil {
		return w.detachedWantsRecv(c)
	}
	return c.state == stateOpen && !c.paused || c.state == stateLingering
}

// onRecv handles a recv CQE. A CQE that carries a selected buffer
// (IORING_CQE_F_BUFFER) gives it back whatever its result: 5.10 puts one on
// errors and on -ECANCELED too, and a buffer not recycled is lost to the
// group for good. Errno table:
//
//	data (res > 0): consume; buffer recycled right after
//	EOF (res == 0): the client is done sending; answer what was asked, close
//	re-arm at the end of the turn: ENOBUFS (the group ran dry; buffers are
//	    recycled during this turn)
//	re-arm now: EINTR, EAGAIN
//	nothing: ECANCELED (we cancelled it: pause or close)
//	close: ECONNRESET, ETIMEDOUT, EPIPE, ENOTCONN, EHOSTUNREACH, ENETUNREACH, ENETDOWN
//	bug (logged, close): anything else
func (w *Worker) onRecv(c *conn, cqe *uring.CQE) {
	if c.polling {
		w.onPoll(c, cqe.Res)
		return
	}
	res := cqe.Res
	rbuf := c.rbuf
	if !cqe.More() {
		c.recvArmed = false
		c.inflight--
		w.recvEnded(c)
		c.rbuf = nil
	}
	bid, hasBuf := cqe.BufferID()
	if hasBuf {
		w.bufsHeld++
	}
	if res > 0 {
		c.got = true // not fresh any more (drainConn)
		if c.reqAt == 0 {
			c.reqAt = w.turn // a request's first bytes (or more of one)
		}
	}
	switch e := unix.Errno(-res); {
	case res > 0 && hasBuf:
		w.stats.add(cBytesIn, uint64(res))
		w.consume(c, w.bufs.Buf(bid)[:res])
	case res > 0 && rbuf != nil:
		w.stats.add(cBytesIn, uint64(res))
		w.consume(c, rbuf[:res])
	case res > 0: // data but no buffer: cannot happen
		w.unexpected(opRecv, res)
		w.beginClose(c)
	case res == 0:
		w.peerClosed(c)
	case e == unix.ENOBUFS:
		w.stats.inc(cNoBufs)
		c.noBufs = w.selectCap > 0 // classic group: the re-arm reads into a buffer of its own
		w.noBufs(c)
	case e == unix.EINTR, e == unix.EAGAIN, e == unix.ECANCELED:
	case e == unix.ECONNRESET, e == unix.ETIMEDOUT, e == unix.EPIPE, e == unix.ENOTCONN,
		e == unix.EHOSTUNREACH, e == unix.ENETUNREACH, e == unix.ENETDOWN:
		w.stats.inc(cRecvErrors)
		w.beginClose(c)
	case c.tls != nil && c.tls.kernel && w.ktlsRecvErr(c, e): // a record that is not data (ktls.go)
	default:
		w.stats.inc(cRecvErrors)
		w.unexpected(opRecv, res)
		w.beginClose(c)
	}
	if hasBuf {
		w.recycle(bid)
	}
	if rbuf != nil && !cqe.More() {
		w.pool.put(rbuf)
	}
	if c.recvArmed && c.cancels == 0 && (c.state == stateClosing || c.paused && !w.detachedReading(c) || c.tls != nil && c.tls.kwant) {
		// A multishot recv we cancelled is still armed: that cancel found
		// it mid-completion and missed. Cancel again.
		w.cancelOp(c, opRecv)
	}
	if c.state == stateClosing {
		w.maybeClose(c)
		return
	}
	if c.tls != nil && !c.recvArmed {
		w.tlsTryKernel(c) // every byte received is opened: kernel TLS may take over (ktls.go)
	}
	if !c.rearmQueued && w.wantsRecv(c) {
		w.armRecv(c)
	}
}

// detachedReading: c's response is detached and c is still to be read (a
// streamed body, or input kept for after the response): its recv stays
// armed although c is paused.
func (w *Worker) detachedReading(c *conn) bool {
	return c.stream != nil && w.detachedWantsRecv(c)
}

// noBufs: bytes arrived for c but the buffer group was empty. The recv is
// re-armed at the end of the turn, once this turn's buffers are recycled.
// The client is not idle (it sent something): an idle connection starts its
// request's header timeout now, rather than being closed as idle while its
// request waits for a buffer.
func (w *Worker) noBufs(c *conn) {
	if !c.recvArmed && !c.rearmQueued {
		c.rearmQueued = true
		w.rearmQ = append(w.rearmQ, c.slot)
	}
	if c.state == stateOpen && !c.inRequest {
		c.inRequest = true
		c.reqStart = w.nowTick
		w.readDeadline(c)
	}
}

// peerClosed: the client shut its write side. Requests it sent before
// still get their answers (a client may send "GET ...", then
// shutdown(SHUT_WR), then read), those buffered unparsed while c is paused
// for backpressure included: they are served as the output drains
// (resume), and then the connection closes.
func (w *Worker) peerClosed(c *conn) {
	if c.stream != nil { // its detached response still goes out (offload.go)
		w.detachedEOF(c)
		return
	}
	if c.tls != nil && w.tlsPeerEOF(c) {
		return // a goroutine serves it: it gets the EOF (tls_goroutine.go)
	}
	switch c.state {
	case stateOpen:
		c.peerEOF = true
		if !c.paused {
			w.endInput(c)
		}
	case stateDraining:
		w.dropInput(c) // the last responses still go out, then linger
	default:
		w.beginClose(c)
	}
}

// endInput: c's client has shut its write side and every complete request
// it sent is answered; what is left of the input is an unfinished request.
// The responses still queued go out, then the connection closes.
func (w *Worker) endInput(c *conn) {
	w.dropInput(c)
	if c.pending() > 0 {
		c.state = stateDraining
		return
	}
	if c.tls != nil && w.tlsCloseIdle(c) {
		return // our close_notify answers the client's (RFC 8446 section 6.1)
	}
	w.beginClose(c)
}

// consume takes received bytes: a TLS connection's go to its handshake or
// record layer (tls.go), whose plaintext comes back to consumeHTTP.
func (w *Worker) consume(c *conn, data []byte) {
	if c.proxyWait { // the PROXY header comes first, before TLS or HTTP (proxy.go)
		if data = w.proxyHeader(c, data); len(data) == 0 {
			return
		}
	}
	if c.userTLS() {
		w.tlsConsume(c, data)
		return
	}
	w.consumeHTTP(c, data)
}

// consumeHTTP feeds received bytes to c's parser. The common case parses them
// where the kernel put them; only the unfinished tail of a request is copied
// into c's own input buffer (stitch), to be completed by later receives.
func (w *Worker) consumeHTTP(c *conn, data []byte) {
	c.rx += uint64(len(data)) // the body's rate (timeout.go)
	if c.state != stateOpen {
		return // draining or lingering: what the client sends now is ignored
	}
	if c.stream != nil {
		w.detachedInput(c, data) // kept for after the detached response
		return
	}
	if c.in == nil && !c.paused {
		off := w.parse(c, data)
		if off < len(data) && c.state == stateOpen {
			rest := data[off:] // in a receive buffer of ours: compacted in place
			w.stash(c, rest[:c.parser.CompactBody(rest)])
		}
	} else if w.stash(c, data) && !c.paused {
		w.parseIn(c)
	}
	if c.state == stateOpen {
		w.readDeadline(c)
	}
}

// parse serves every complete request at the start of buf and returns the
// bytes consumed. It stops at an incomplete request, when c stops being
// open (close requested, bad request) or when c is paused (backpressure).
func (w *Worker) parse(c *conn, buf []byte) int {
	off := 0
	for off < len(buf) && c.state == stateOpen && !c.paused {
		n, err := c.parser.Next(buf[off:], &w.req)
		if err == http1.ErrIncomplete {
			if headLen, ok := c.parser.HeadOnly(); ok {
				if w.cfg.StreamBody != nil && w.cfg.StreamBody(&w.req) {
					if c.parser.NeedContinue() {
						w.sendContinue(c)
					}
					w.streamRequest(c, buf[off:], headLen)
					return len(buf)
				}
				if err := c.parser.KeepBody(); err != nil { // over MaxBody: streamed only
					w.badRequest(c, err)
					return len(buf)
				}
			}
			if c.parser.NeedContinue() {
				w.sendContinue(c)
			}
			if !c.inRequest {
				c.inRequest = true
				c.reqStart = w.nowTick
			}
			if c.reqAt == 0 {
				c.reqAt = w.turn // a pipelined request's start, behind one just served
			}
			return off
		}
		if err != nil {
			w.badRequest(c, err)
			return len(buf)
		}
		off += n
		c.inRequest = false
		w.reqAt, c.reqAt = c.reqAt, 0
		w.serve(c)
		if c.pending() > w.cfg.MaxPendingOutput {
			w.pause(c)
		}
	}
	return off
}

// parseIn parses c's stitched input and keeps only its unconsumed tail.
func (w *Worker) parseIn(c *conn) {
	off := w.parse(c, c.in)
	if c.in == nil { // closed meanwhile
		return
	}
	if off >= len(c.in) {
		w.pool.put(c.in)
		c.in = nil
		w.chargeIn(c)
		return
	}
	n := len(c.in)
	if off > 0 {
		n = copy(c.in, c.in[off:])
	}
	// A chunked body still arriving keeps its decoded bytes, not the
	// framing they came in: the stitch limit and the memory held follow
	// the body, whatever the size of its chunks.
	n = c.parser.CompactBody(c.in[:n])
	if n < len(c.in) {
		if w.cfg.DebugPoisonBuffers {
			tail := c.in[n:]
			for i := range tail {
				tail[i] = poisonByte
			}
		}
		c.in = c.in[:n]
	}
}

// stash appends b to c's input buffer, taking or growing it from the pool.
// The buffer grows with the bytes that arrive, doubling (a few copies of a
// large body, but no memory for bytes a head merely declares), up to the
// end of a Content-Length request. Past the stitch limit the request is
// refused (413); past the worker's budget for buffered input, or when no
// memory can be mapped, the server is overloaded (503). Either way false.
func (w *Worker) stash(c *conn, b []byte) bool {
	need := len(c.in) + len(b)
	if need > w.stitchMax() {
		w.refuse(c, 413)
		return false
	}
	if cap(c.in) < need {
		size := max(need, 2*cap(c.in), w.cfg.RecvBufferSize)
		if end := c.parser.Pending(); end >= need {
			size = min(size, end)
		}
		var nb []byte
		if budget := w.cfg.MaxBodyBuffer; budget <= 0 || w.inBytes-c.inCharge+classBytes(size) <= budget {
			nb = w.pool.tryGet(size)
		}
		if nb == nil {
			w.stats.inc(cBodyBufferFull)
			w.answerClose(c, 503)
			return false
		}
		if c.in != nil {
			nb = append(nb, c.in...)
			w.pool.put(c.in)
		}
		c.in = nb
		w.chargeIn(c)
	}
	c.in = append(c.in, b...)
	return true
}

// chargeIn brings the worker's count of buffered input (the budget of
// Config.MaxBodyBuffer) up to date with c's input buffer. It is called
// where this file takes, grows or frees c.in; a buffer replaced elsewhere is
// counted at its next stash or its release.
func (w *Worker) chargeIn(c *conn) {
	w.inBytes += cap(c.in) - c.inCharge
	c.inCharge = cap(c.in)
}

// stitchMax bounds a connection's input buffer (engine.Config.StitchMax).
func (w *Worker) stitchMax() int { return w.cfg.StitchMax(w.cfg.RecvBufferSize) }

// dropInput forgets c's buffered input (the connection will close).
func (w *Worker) dropInput(c *conn) {
	if c.in != nil {
		w.pool.put(c.in)
		c.in = nil
	}
	w.chargeIn(c)
	c.inRequest = false
}

// pause stops reading c until its output drains (backpressure).
func (w *Worker) pause(c *conn) {
	if c.paused {
		return
	}
	c.paused = true
	w.stats.inc(cPaused)
	if c.recvArmed && w.multishotRecv {
		w.cancelOp(c, opRecv)
	}
}

// resume restarts a paused c once its output has drained: it serves what was
// buffered meanwhile, then reads again.
func (w *Worker) resume(c *conn) {
	if c.stream != nil {
		return // a detached response is in progress: endStream resumes
	}
	c.paused = false
	if c.in != nil {
		w.parseIn(c)
	}
	if c.peerEOF && c.state == stateOpen && !c.paused {
		w.endInput(c) // everything the client sent before its EOF is answered
		return
	}
	if c.state == stateOpen && w.wantsRecv(c) {
		w.armRecv(c)
	}
}

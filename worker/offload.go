package worker

import (
	"context"
	"errors"
	"net/netip"
	"runtime/debug"
	"sync"

	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// Offload: a response produced off the worker thread.
//
// A Handler running on the worker may call Detach during ServeHTTP. When it
// returns, the worker (detach, below) copies the request into owned memory,
// stops parsing the connection (pipelined requests behind it wait in c.in,
// in order) and hands a Stream to the shared Pool. The pool's goroutine
// writes the response's bytes through Stream.Write, which posts them to the
// worker's inbox (an MPSC queue: many producers, the worker alone consumes)
// and, if the worker sleeps, wakes it through its eventfd, whose read is
// always armed on the ring (when, and how rarely: wake.go). The request
// reaches the pool through engine.Pool.SubmitFromLoop, whose dispatcher the
// worker kicks once per loop turn. The worker appends them to the connection's output and sends
// them like any other response. Stream.Finish ends the response; the worker
// then resumes parsing what was pipelined behind it.
//
// Memory is bounded per connection: a producer blocks in Write while more
// than Config.MaxPendingOutput of its bytes are posted and not yet sent; the
// worker releases it as send CQEs come in. When the connection goes away
// (EOF, error, timeout, forced shutdown) the stream is failed: its context is
// cancelled and its writes return ErrClientGone.
//
// Nothing here runs for a request that is not detached: the hooks in the
// hot path are nil checks of w.off.run and c.stream.

var (
	// ErrClientGone: the connection of a detached response was closed (the
	// client went away, a timeout, or a forced shutdown).
	ErrClientGone = errors.New("uringd: client connection closed")
	// ErrFinished: Write after Finish.
	ErrFinished = errors.New("uringd: write after the response was finished")
)

// maxPost is the largest piece one Stream.Write posts at once, so that a big
// write is sent while the rest is still being copied, and so that backpressure
// has a grain finer than the limit.
const maxPost = 64 << 10

// maxJump bounds the output buffer a stream whose client lags takes at
// once (appendOut); past it the buffer grows by doubling, as needed.
const maxJump = 4 << 20

// detachReadMax is how much pipelined input a detached connection may buffer
// before the worker stops reading it. Reading goes on below it so that a
// client that disconnects is noticed (and the producer's context cancelled).
const detachReadMax = 64 << 10

// registerOffload makes the worker's one Response detachable (setup).
func (w *Worker) registerOffload() {
	engine.Register(&w.resp, w)
	w.off.kickFD = -1
	w.off.kickVal[0] = 1
	w.off.kickIov.Base = &w.off.kickVal[0]
	w.off.kickIov.SetLen(len(w.off.kickVal))
}

// unregisterOffload runs at teardown, before the eventfd is closed (Close):
// from then on producers post nothing and write no eventfd (its number could
// belong to another file by then).
func (w *Worker) unregisterOffload() {
	engine.Unregister(&w.resp)
	w.off.mu.Lock()
	w.off.closed = true
	w.off.mu.Unlock()
	w.off.efdMu.Lock()
	w.off.efdGone = true
	w.off.efdMu.Unlock()
}

// offload is a worker's side of the offload path.
type offload struct {
	run func(engine.Stream) // set by DetachCurrent during the handler call; taken by takeDetach

	mu       sync.Mutex // guards msgs, sleeping, wake, gen, closed; taken by producers and the worker
	msgs     []post     // posted since the last drain
	sleeping bool       // the worker waits in the kernel (or is about to): a post must wake it (wake.go)
	wake     wakeState  // whether a wake of the sleeping worker is owed or written
	gen      uint32     // drains so far: which owed wake is current
	closed   bool       // the worker is gone: posts are dropped
	spare    []post     // worker only: the other half of the double buffer

	// The eventfd is written outside mu (wake.go: the write may let the
	// worker preempt the writer, which must not hold mu then); efdMu keeps
	// teardown from closing it under a write.
	efdMu   sync.RWMutex
	efdGone bool // guarded by efdMu: teardown is past; write nothing

	// The pool's dispatcher eventfd, when a job submitted this turn must
	// wake it (-1: none); kicks counts its writes in flight (worker only).
	kickFD   int
	kickVal  [8]byte    // the 1 written (kernel-visible: lives in the Worker)
	kickIov  unix.Iovec // points at kickVal
	kicks    int
	kickHeld bool // the kick waited for one turn's CQEs already (beforeWait)

	// remotes caches each slot's peer address for its current generation
	// (worker only): getpeername once per connection, not per request.
	remotes []remoteAddr
}

type remoteAddr struct {
	gen  uint32
	ok   bool
	addr string
}

// post is one message from a producer: bytes to send, or the end.
type post struct {
	s      *Stream
	b      *[]byte // pooled (getPostBuf); nil with fin
	fin    bool
	close  bool   // with fin: close the connection after the response
	resume bool   // a streamed body's reader freed the window (body.go)
	input  []byte // what followed a streamed body: pipelined requests (body.go)

	// A streamed body's window (bodylend.go): lent is a view of it to
	// send, as b is; recycle gives it back once its lent views are copied.
	lent    []byte
	recycle []byte
}

// DetachCurrent is the worker's side of engine.Detach, called by a handler
// on the worker's thread: once the handler returns, whatever it wrote to
// the response is discarded and run is called on a pool goroutine with a
// Stream carrying an owned copy of the request (takeDetach). It does not
// allocate; detaching (after the handler) does.
func (w *Worker) DetachCurrent(run func(engine.Stream)) error {
	if w.cfg.Offload == nil {
		return engine.ErrNotDetachable
	}
	w.off.run = run
	return nil
}

// takeDetach is called by serve after the handler: if the handler detached
// the request (and did not panic), the request is handed to the pool and
// true returned; serve then skips the response.
func (w *Worker) takeDetach(c *conn, ok bool) bool {
	run := w.off.run
	if run == nil {
		return false
	}
	w.off.run = nil
	if !ok {
		return false
	}
	if w.resp.FromPool() { // the handler wrote before detaching: give the buffer back
		w.pool.put(w.resp.Finish())
	}
	s := w.newStream(c)
	s.run = run
	ok, kick := w.cfg.Offload.SubmitFromLoop(s)
	if kick >= 0 {
		w.off.kickFD = kick // written at the end of the turn (armKick)
	}
	if !ok {
		s.cancel()
		w.rejectBusy(c)
		return true
	}
	c.stream = s
	c.paused = true // parse stops; what arrives is stashed (detachedInput)
	w.stats.inc(cRequests)
	return true
}

// newStream copies what must outlive the handler call: the request (views
// into the receive buffer) and the peer address (the fd may be reused once
// the connection closes).
func (w *Worker) newStream(c *conn) *Stream {
	s := &Stream{
		w:      w,
		req:    w.req.Clone(),
		remote: w.remoteAddr(c),
		limit:  w.cfg.MaxPendingOutput,
		slot:   c.slot,
		gen:    c.gen,
		fd:     c.fd,
		sfd:    -1,
		ahead:  c.pending(),
		tls:    tlsStateOf(c),
		ktls:   c.tls != nil && c.tls.kernel,
	}
	if w.mode != runServing {
		s.req.Close = true // shutting down: this is the connection's last response
	}
	s.begun = w.turn // the request's start, in the loop's time (Answered, endStream)
	if w.reqAt != 0 {
		s.begun = w.reqAt
	}
	w.reqAt = 0
	if w.cfg.AccessLog != nil {
		s.peer = w.peer(c)
	}
	s.cond.L = &s.mu
	if w.streamDec != nil {
		w.newBodyPipe(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// rejectBusy answers 503 inline when the pool's queue is full.
func (w *Worker) rejectBusy(c *conn) {
	w.resp.Reset(c.out, &w.req, w.date.Bytes())
	if w.streamDec != nil {
		w.resp.SetClose() // its body will not be read
	}
	w.resp.SetStatus(503)
	w.resp.SetContentType("text/plain; charset=utf-8")
	_ = w.resp.SetHeader("Retry-After", "1")
	_, _ = w.resp.WriteString(engine.BusyBody)
	w.finish(c)
	w.answered(c, &w.req)
}

// drainOffload delivers what producers posted since the last drain. Called
// on every eventfd completion (the wakeup op, woke: its wake is in) and
// before the worker waits with posts in the inbox (beforeWait).
func (w *Worker) drainOffload(woke bool) {
	o := &w.off
	o.mu.Lock()
	msgs := o.msgs
	o.msgs = o.spare[:0]
	o.gen++
	if woke || o.wake == wakeOwed {
		o.wake = wakeNone // an owed wake's posts are taken here: its producer writes nothing
	}
	o.mu.Unlock()
	for i := range msgs {
		w.deliver(&msgs[i])
		if b := msgs[i].b; b != nil {
			putPostBuf(b)
		}
		msgs[i] = post{}
	}
	o.spare = msgs[:0]
}

// enqueue is the producers' side of the inbox: post, waking the worker now
// if it sleeps with no wake on its way (wake.go).
func (w *Worker) enqueue(p post) { w.post(p, false) }

// deliver applies one post to its connection, unless that connection is
// gone (then the stream was already failed and the post is dropped).
func (w *Worker) deliver(p *post) {
	c := w.conns.at(p.s.slot)
	if c == nil || c.gen != p.s.gen || c.stream != p.s {
		return
	}
	switch {
	case p.fin:
		w.stats.countResponse(engine.KindOffload, p.s.status, w.turn-p.s.begun)
		w.stats.add(cBytesOut, uint64(p.s.filed.Load()))
		w.stats.add(cFileBytesOut, uint64(p.s.filed.Load()))
		w.endStream(c, p.close)
		return
	case p.resume:
		w.resumeBody(c)
		return
	case p.input != nil:
		w.pipelinedAfterBody(c, p.input)
		return
	case p.recycle != nil:
		w.recycleWindow(p.s, p.recycle)
		return
	case p.lent != nil:
		w.deliverLent(c, p.lent)
		return
	}
	w.appendOut(c, *p.b)
	w.queueSend(c)
}

// appendOut copies b to c's output. The bytes a finished send took are
// dropped first when no send pins the buffer. A stream's bytes count
// against its limit until they leave the buffer (held, streamSent), not
// merely until they are sent: what the buffer holds (stream bytes, sent or
// not) never passes the limit, so it never grows past classBytes(limit)
// and is never copied (and the copy pinned) while a send is in flight.
// Counting only unsent bytes let a send's sent prefix plus a full limit of
// unsent ones outgrow the limit's class: with the default 1 MiB, every
// slow reader's buffer doubled to 2 MiB, and 50 of them grew the server's
// RSS by 120 MiB (cmd/uringd TestEchoSlowReadersRSS). Only bytes of
// responses queued before the stream (ahead) can still make it grow.
func (w *Worker) appendOut(c *conn, b []byte) {
	switch {
	case c.out == nil:
		c.out = w.pool.get(max(outBufSize, len(b)))
	case !c.sending && c.sent > 0:
		w.compactOut(c)
	}
	if cap(c.out)-len(c.out) < len(b) {
		n := len(b)
		if s := c.stream; s.behind || c.pending() > maxPost {
			// The client takes the bytes slower than they come (a
			// partial send, or more than a post waits): the buffer will
			// fill to the limit, so take the limit's class at once.
			// Doubling, each old buffer stayed pinned until the send
			// reading it ended, long after for a slow reader, and the
			// doublings sat idle in the pool afterwards (50 slow readers:
			// 8 MiB pinned, 16 MiB idle). A response the client keeps up
			// with still doubles from a small buffer, and so does one
			// past maxJump (MaxPendingOutput may be set to gigabytes).
			n = max(n, min(s.limit, maxJump)-len(c.out))
		}
		w.growOut(c, n)
	}
	c.out = append(c.out, b...)
}

// compactOut moves c's unsent output to the start of its buffer, which
// gives the stream's producer credit for its sent bytes that were there.
// Only when no send is in flight (a send pins out[sent:sendEnd] in place).
func (w *Worker) compactOut(c *conn) {
	n := copy(c.out, c.out[c.sent:])
	c.out = c.out[:n]
	c.sent, c.sendEnd = 0, 0
	w.releaseHeld(c)
}

// releaseHeld: c's stream's sent bytes left c.out (compacted away, or the
// buffer went back to the pool); its producer may post as many again.
func (w *Worker) releaseHeld(c *conn) {
	if s := c.stream; s != nil && s.held > 0 {
		s.release(s.held)
		s.held = 0
	}
}

// streamSent credits n sent bytes (from a send CQE) to c's stream: bytes of
// earlier responses first, then the stream's, which stay held (counted
// against the limit) until compacted away. Compacting once a quarter of
// the buffer (or of the limit) went out bounds the copying to a few bytes
// moved per byte sent, and keeps the producer's window at three quarters
// of the limit or more. Called by onSend before it looks at what is left
// (no send in flight); if nothing is left, sent frees the buffer, and with
// it what was held.
func (w *Worker) streamSent(c *conn, n int) {
	s := c.stream
	if s == nil {
		return
	}
	if s.ahead > 0 {
		d := min(n, s.ahead)
		s.ahead -= d
		n -= d
	}
	s.held += n
	if c.sent < c.sendEnd {
		s.behind = true // the socket took less than it was given
	}
	if c.pending() > 0 && c.sent >= min(cap(c.out), s.limit)/4 {
		w.compactOut(c)
	}
}

// endStream: the producer finished. The connection goes back to serving
// what was pipelined behind the response (or closes, if the response said
// so) as its output drains.
func (w *Worker) endStream(c *conn, closeConn bool) {
	c.stream = nil
	// Read again after a half-close: the next recv sees the EOF again,
	// once the requests pipelined before it are served (peerClosed).
	c.peerEOF = false
	if closeConn && c.state == stateOpen {
		c.state = stateDraining
		w.dropInput(c)
	}
	switch {
	case !c.sending && c.pending() == 0:
		w.sent(c) // all out already: linger, or resume reading
	case c.state == stateOpen && c.pending() <= w.cfg.MaxPendingOutput:
		w.resume(c)
	}
	if c.state == stateOpen {
		w.readDeadline(c)
	}
}

// detachedEOF: the client shut its write side while c's response is
// produced off the worker. A client may do that right after its request
// ("that was all") and still read: the response goes out as it is written,
// as with net/http and netpoll. c is not read until the response ends
// (every recv would report EOF again at once); then endStream reads again
// and the EOF closes the connection once the output is out. Only a failed
// send (the client is really gone) fails the stream.
func (w *Worker) detachedEOF(c *conn) {
	c.peerEOF = true
	if b := c.stream.body; b == nil || !b.stashed {
		c.stream.peerEOF() // else once the stash is in the window (unstash)
	}
	w.readDeadline(c) // no body timeout any more: the body is over
}

// abortStream fails c's stream: its connection is closing.
func (w *Worker) abortStream(c *conn) {
	if s := c.stream; s != nil {
		c.stream = nil
		s.fail(ErrClientGone)
	}
}

// detachedInput takes bytes that arrive while c's response is detached:
// they are kept, unparsed, until the response ends. Past detachReadMax the
// recv stops (wantsRecv); past the stitch limit the client is abusive.
func (w *Worker) detachedInput(c *conn, data []byte) {
	if w.forwardBody(c, data) {
		return
	}
	// Bytes stashed past a full body window (forwardBody) are not held
	// to the stitch limit: they are what the kernel had received before
	// the read stopped, which a window would have taken all the same.
	stash := c.stream.body != nil && c.stream.body.stashed
	if !stash && len(c.in)+len(data) > w.stitchMax() {
		w.beginClose(c)
		return
	}
	if c.in == nil {
		c.in = w.pool.get(max(len(data), w.cfg.RecvBufferSize))
	} else if cap(c.in)-len(c.in) < len(data) {
		nb := w.pool.grow(c.in, len(data))
		if stash {
			w.pool.putCold(c.in)
		} else {
			w.pool.put(c.in)
		}
		c.in = nb
	}
	c.in = append(c.in, data...)
	if len(c.in) >= detachReadMax {
		w.stopDetachedRecv(c)
	}
}

// stopDetachedRecv cancels the multishot recv of a detached connection that
// must not be read for now (a single-shot recv is simply not re-armed:
// detachedWantsRecv). The cancel is counted (c.cancels) like any other, so
// the completions that arrive before it lands neither cancel again here
// nor in onRecv; if it misses (the recv was mid-completion), onRecv
// cancels again once it is in.
func (w *Worker) stopDetachedRecv(c *conn) {
	if c.recvArmed && w.multishotRecv && c.cancels == 0 {
		w.cancelOp(c, opRecv)
	}
}

// detachedWantsRecv: a detached connection is read (to notice a client that
// leaves) until detachReadMax bytes of pipelined input wait, or its
// streamed body's window is full (body.go).
func (w *Worker) detachedWantsRecv(c *conn) bool {
	if c.state != stateOpen || c.peerEOF || len(c.in) >= detachReadMax {
		return false
	}
	_, paused := c.stream.bodyState()
	return !paused
}

// remoteAddr returns c's peer address, from the cache when this generation
// of the slot asked before.
func (w *Worker) remoteAddr(c *conn) string {
	o := &w.off
	if int(c.slot) >= len(o.remotes) {
		o.remotes = append(o.remotes, make([]remoteAddr, int(c.slot)+1-len(o.remotes))...)
	}
	r := &o.remotes[c.slot]
	if !r.ok || r.gen != c.gen {
		addr := ""
		switch {
		case c.peerOK && c.peer.IsValid(): // read already, or given by a PROXY header
			addr = c.peer.String()
		case !c.peerOK:
			addr = peerName(c.fd)
		}
		*r = remoteAddr{gen: c.gen, ok: true, addr: addr}
	}
	return r.addr
}

// peerName formats the connection's peer address ("ip:port"; "" if the
// socket has none any more).
func peerName(fd int32) string {
	sa, err := unix.Getpeername(int(fd))
	if err != nil {
		return ""
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return ""
}

// serve runs the job on a pool goroutine. A job that panics or returns
// without Finish closes the connection: the client may have half a response.
func (s *Stream) serve(run func(engine.Stream)) {
	defer func() {
		if p := recover(); p != nil {
			s.w.log.Error("detached handler panic; closing the connection",
				"path", string(s.req.Path), "panic", p, "stack", string(debug.Stack()))
		}
		s.Finish(true) // no-op when the job finished
	}()
	if s.Err() != nil {
		return // the client left while the job was queued (at EOF alone it may still read)
	}
	run(s)
}

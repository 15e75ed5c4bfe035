package worker

import (
	"io"

	"github.com/uringd/uringd/http1"
)

// Streamed request bodies.
//
// A request whose handler reads its body as a stream (Config.StreamBody) is
// detached as soon as its head is parsed, rather than when its whole body
// has arrived, so a body need not fit in memory. The worker then forwards
// what it receives for the connection to the stream (forwardBody), at most
// bodyWindow bytes ahead of the reader, and stops reading the connection
// while the window is full; the reader's taking bytes re-arms the read
// (a resume post). The reader (Stream.Body, on the pool goroutine) decodes
// the framing with http1.BodyReader and, at the body's end, posts back what
// followed it — pipelined requests — which the worker parses once the
// response is done. A handler that returns before reading its whole body
// closes the connection after its response: where the next request starts
// is unknown.
//
// The connection's recv is single-shot while a body streams (streamingBody):
// one receive at a time, so the window holds what it should and not a
// socket's backlog.
//
// While the body is coming the connection is under the body's limits, as
// for a buffered body (timeout.go: per read, minimum rate, whole request);
// not while the window is full, which is the handler's doing, not the
// client's, nor once the whole body has arrived (wireLeft, endBody).

// bodyWindow bounds the received bytes waiting for a streamed body's reader.
const bodyWindow = 256 << 10

// readerChunk is the most the reader takes from the window at once.
const readerChunk = 64 << 10

// bodyPipe carries a streamed body from the worker to the reader. Fields
// are guarded by Stream.mu unless marked.
type bodyPipe struct {
	wire   []byte // received: wire[taken:] is not yet taken by the reader
	taken  int
	spare  []byte // Content-Length: an empty window for the worker's next swap (bodylend.go)
	open   bool   // the worker forwards what it receives here
	eof    bool   // the client shut its write side: no more bytes come
	paused bool   // the worker stopped reading because wire was full

	// Immutable: the most received bytes the worker holds for the reader
	// before it stops reading: bodyWindow, or half of it when the reader
	// takes whole windows (Content-Length: swapWindow), so that its window
	// and the worker's together hold no more than bodyWindow.
	win int

	// Worker thread only: c.in holds bytes received after wire, not yet
	// forwarded (forwardBody, forwardStash).
	stashed bool

	// Worker thread only: Content-Length bytes not yet received (-1 when
	// chunked: only the reader's decoding finds the end). At 0 the client
	// has sent the whole body and owes nothing more: no body deadline runs
	// while the handler takes its time to read it.
	wireLeft int64

	// Reader (pool goroutine) only.
	r     *http1.BodyReader
	rbuf  []byte // Content-Length: the window the reader took (swapWindow)
	rlent bool   // views of rbuf were lent to the connection (bodylend.go)
}

// newBodyPipe starts the streamed body of s's request.
func (w *Worker) newBodyPipe(s *Stream) {
	s.body = &bodyPipe{open: true, wireLeft: -1, win: bodyWindow}
	if !s.req.Chunked {
		s.body.wireLeft = max(s.req.ContentLength, 0)
		s.body.win = bodyWindow / 2
	}
	s.body.r = http1.NewBodyReader(&s.req, &w.cfg.Limits, w.streamDec, s.fillBody)
	s.bodyCond.L = &s.mu
}

// Body returns the request body as it arrives, when it is streamed (the
// request's handler reads its body as a stream); nil when the whole body is
// in Request().Body. Read fails with http1.ErrBodyTruncated if the client
// goes away first, and with an *http1.Error if the chunked framing is bad
// (the connection then closes after the response).
func (s *Stream) Body() io.Reader {
	if s.body == nil {
		return nil
	}
	return (*streamBody)(s)
}

type streamBody Stream

func (sb *streamBody) Read(p []byte) (int, error) {
	s := (*Stream)(sb)
	n, err := s.body.r.Read(p)
	if err == io.EOF || s.body.r.Done() {
		s.endBody()
	}
	return n, err
}

// finishBody, at Finish, reads and drops a small rest of a body the handler
// did not read to its end (http1.BodyReader.Drain), and reports whether the
// body is still not over (the connection must then close).
func (s *Stream) finishBody() (unread bool) {
	if s.body == nil {
		return false
	}
	if s.body.r.Drain() {
		s.endBody()
	}
	return s.bodyUnread()
}

// fillBody is the BodyReader's source: it waits for received bytes and takes
// up to readerChunk of them, which frees the window (and resumes a paused
// read once the window has room).
func (s *Stream) fillBody(dst []byte) ([]byte, error) {
	b := s.body
	s.mu.Lock()
	for len(b.wire) == b.taken && !b.eof && s.err == nil && !s.done {
		s.bodyCond.Wait()
	}
	if len(b.wire) == b.taken {
		err := s.err
		s.mu.Unlock()
		switch {
		case err == ErrClientGone, err == nil && b.eof:
			err = io.EOF // the reader reports a truncated body
		case err == nil:
			err = ErrFinished
		}
		return dst, err
	}
	if !s.req.Chunked {
		// The window itself, not a copy (bodylend.go).
		give := s.swapWindow()
		resume := b.paused
		b.paused = false
		s.mu.Unlock()
		if resume {
			s.w.enqueue(post{s: s, resume: true})
		}
		return give, nil
	}
	// A piece at a time, not the whole window: the reader's buffer stays
	// small, and the window is the only one of its size per body.
	if cap(dst) == 0 {
		dst = make([]byte, 0, readerChunk)
	}
	k := min(len(b.wire)-b.taken, max(cap(dst)-len(dst), readerChunk))
	dst = append(dst, b.wire[b.taken:b.taken+k]...)
	b.taken += k
	if b.taken == len(b.wire) {
		b.wire, b.taken = b.wire[:0], 0
		if cap(b.wire) > s.w.windowCap(b) {
			// Swollen by receives that landed before the read stopped
			// (a multishot recv's completions already queued): let it
			// go rather than hold it for the rest of the body.
			b.wire = nil
		}
	}
	resume := b.paused && len(b.wire)-b.taken < b.win
	if resume {
		b.paused = false
	}
	s.mu.Unlock()
	if resume {
		s.w.enqueue(post{s: s, resume: true})
	}
	return dst, nil
}

// endBody: the reader reached the body's end. What followed it goes back to
// the worker, and the worker stops forwarding.
func (s *Stream) endBody() {
	b := s.body
	s.mu.Lock()
	if !b.open {
		s.mu.Unlock()
		return
	}
	b.open = false
	rest := append(append([]byte(nil), b.r.Rest()...), b.wire[b.taken:]...)
	putWindow(b.wire) // the worker forwards no more
	putWindow(b.spare)
	b.spare = nil
	b.wire, b.taken = nil, 0
	s.dropReaderWindow() // Rest, a view of it, is copied
	s.mu.Unlock()
	// Either post makes the worker look at the deadline again: the body
	// timeout must not outlive the body (the handler's time is its own).
	if len(rest) > 0 {
		s.w.enqueue(post{s: s, input: rest})
	} else {
		s.w.enqueue(post{s: s, resume: true})
	}
}

// bodyUnread stops the forwarding of a body the handler did not read to its
// end, and reports that it did not (Finish then closes the connection).
func (s *Stream) bodyUnread() bool {
	b := s.body
	if b == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !b.open {
		return false
	}
	b.open = false
	b.wire, b.taken = nil, 0
	return true
}

// streamRequest detaches the request whose head was just parsed from b (its
// first headLen bytes; the rest is the start of its body) to its handler,
// which reads the body as it arrives.
func (w *Worker) streamRequest(c *conn, b []byte, headLen int) {
	dec := c.parser.ReleaseBody()
	reqAt := w.nowTick
	if c.inRequest {
		reqAt = c.reqStart // the head came in several reads
	}
	c.inRequest = false
	w.reqAt, c.reqAt = c.reqAt, 0
	w.streamDec = &dec
	w.serve(c)
	w.streamDec = nil
	s := c.stream
	if s == nil || s.body == nil {
		return // answered inline or refused (503): the response closes the connection
	}
	w.startBodyClock(c, reqAt)
	if len(b) > headLen {
		w.forwardBody(c, b[headLen:])
	}
	if s.body.wireLeft != 0 && c.recvArmed && w.multishotRecv {
		// More is to come: from here one receive at a time
		// (streamingBody); onRecv re-arms once the cancel lands.
		w.stopDetachedRecv(c)
	}
	w.readDeadline(c)
}

// forwardBody hands data received for c to its stream's body; false when
// the stream takes no more (its body is over: data is pipelined input).
func (w *Worker) forwardBody(c *conn, data []byte) bool {
	s := c.stream
	b := s.body
	if b == nil {
		return false
	}
	s.mu.Lock()
	if !b.open {
		s.mu.Unlock()
		return false
	}
	if b.wireLeft > 0 {
		b.wireLeft -= min(b.wireLeft, int64(len(data)))
	}
	if b.stashed || b.paused && cap(b.wire)-len(b.wire)+b.taken < len(data) {
		// Received past a full window (receives that completed before
		// the read stopped): kept in c.in (detachedInput), off the Go
		// heap, and forwarded as the reader frees the window
		// (forwardStash). Growing the window for them made a window or
		// two of garbage per connection, which the GC let pile up: with
		// 50 slow /echo readers, 20 MiB of the server's RSS.
		b.stashed = true
		s.mu.Unlock()
		return false
	}
	pause := w.putWire(s, data)
	s.mu.Unlock()
	if pause {
		w.stopDetachedRecv(c)
	}
	w.readDeadline(c)
	return true
}

// putWire appends data to b's window (under s.mu) and reports whether the
// window just filled: the worker must stop reading.
func (w *Worker) putWire(s *Stream, data []byte) (pause bool) {
	b := s.body
	if cap(b.wire)-len(b.wire) < len(data) && b.taken > 0 {
		b.wire = b.wire[:copy(b.wire, b.wire[b.taken:])] // the taken part makes room
		b.taken = 0
	}
	if cap(b.wire)-len(b.wire) < len(data) {
		b.wire = w.growWire(b, len(data))
	}
	b.wire = append(b.wire, data...)
	pause = !b.paused && len(b.wire)-b.taken >= b.win
	if pause {
		b.paused = true
	}
	s.bodyCond.Signal()
	return pause
}

// forwardStash moves what was stashed past the full window (forwardBody)
// into it, as far as the window has room, when the reader frees it. What
// does not fit waits for the next resume: the window is full again, so the
// reader posts one once it takes more. Once the stash is empty, what
// arrives goes straight to the window again, and a client's EOF held back
// behind the stash (detachedEOF) reaches the reader. If the body ended
// meanwhile, c.in is what followed it: pipelined input.
func (w *Worker) forwardStash(c *conn) {
	s := c.stream
	b := s.body
	if b == nil || !b.stashed {
		return
	}
	s.mu.Lock()
	k := 0
	pause := false
	if b.open {
		k = min(len(c.in), w.windowCap(b)-(len(b.wire)-b.taken))
		if k > 0 {
			pause = w.putWire(s, c.in[:k])
		}
	}
	s.mu.Unlock()
	if k > 0 {
		c.in = c.in[:copy(c.in, c.in[k:])]
	}
	if len(c.in) > 0 && b.open {
		if pause {
			w.stopDetachedRecv(c)
		}
		return
	}
	w.unstash(c)
}

// unstash: c.in no longer holds bytes owed to the window (all forwarded,
// or the body is over and they are pipelined input).
func (w *Worker) unstash(c *conn) {
	b := c.stream.body
	if b == nil || !b.stashed {
		return
	}
	b.stashed = false
	if c.in != nil && len(c.in) == 0 {
		w.pool.putCold(c.in)
		c.in = nil
	}
	if c.peerEOF {
		c.stream.peerEOF()
	}
}

// streamingBody: c's detached request streams its body. Its recv is then
// single-shot: a multishot recv re-armed as the reader frees the window
// would empty the socket's whole backlog (megabytes) into the window at
// once, one buffer after another, before the stop lands; one receive at a
// time keeps the window at its size.
func streamingBody(c *conn) bool { return c.stream != nil && c.stream.body != nil }

// growWire makes room for n more bytes in b's window: by doubling, but to
// the window and a couple of receives that may land past it while the read
// stops rather than past that, and no further than a Content-Length body
// needs. (Receives already completed when the read is cancelled still land;
// beyond that size the window grows by doubling again.)
func (w *Worker) growWire(b *bodyPipe, n int) []byte {
	need := len(b.wire) + n
	full := w.windowCap(b)
	want := max(2*cap(b.wire), 16<<10)
	switch {
	case cap(b.wire) == 0 && b.wireLeft >= int64(full):
		want = full // a long body: the whole window at once, no doubling garbage
	case need <= full:
		want = min(want, full)
	}
	if b.wireLeft >= 0 {
		want = min(want, len(b.wire)+int(b.wireLeft))
	}
	want = max(want, need)
	if len(b.wire) == 0 && want <= full {
		// A window from the pool: a Content-Length body's reader takes
		// it whole (swapWindow) and gives it back (bodylend.go).
		return getWindow(full)
	}
	nb := make([]byte, len(b.wire), want)
	copy(nb, b.wire)
	return nb
}

// bodyState reports whether s's streamed body waits for bytes from the
// client (open, window not full, not all received: the body timeout runs)
// and whether its window is full (the worker must not read the connection).
func (s *Stream) bodyState() (waiting, paused bool) {
	b := s.body
	if b == nil {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return b.open && !b.paused && !b.eof && b.wireLeft != 0, b.paused
}

// resumeBody: the reader freed the window; read the connection again.
func (w *Worker) resumeBody(c *conn) {
	w.forwardStash(c)
	if !c.rearmQueued && w.wantsRecv(c) {
		w.armRecv(c)
	}
	w.readDeadline(c)
}

// pipelinedAfterBody takes the bytes that followed a streamed body: they go
// in front of anything stashed since (which arrived after them).
func (w *Worker) pipelinedAfterBody(c *conn, rest []byte) {
	if c.state != stateOpen {
		return
	}
	w.unstash(c) // what is stashed followed the body too, after rest
	if c.in == nil {
		c.in = w.pool.get(max(len(rest), w.cfg.RecvBufferSize))
		c.in = append(c.in, rest...)
	} else {
		nb := w.pool.get(len(rest) + len(c.in))
		nb = append(append(nb, rest...), c.in...)
		w.pool.put(c.in)
		c.in = nb
	}
	w.readDeadline(c) // the body is over: its timeout with it
}

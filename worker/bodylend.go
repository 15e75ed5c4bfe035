package worker

import (
	"io"
	"sync"
	"unsafe"

	"github.com/uringd/uringd/uring"
)

// Moving a streamed Content-Length body with fewer copies.
//
// The worker copies what it receives into the body's window (forwardBody);
// from there the bytes are not copied again on their way to the reader:
// fillBody gives the reader the window itself and the worker a fresh one
// (swapWindow), and the body's WriteTo (io.Copy(w, body)) hands the
// reader's window to the writer as views (http1.BodyReader.Next). When the
// writer posts such a view to the connection (Stream.Write; the root's
// ResponseWriter passes large writes through), it is lent, not copied into
// a post buffer: the worker copies it into the connection's output when it
// delivers the post, and a recycle post behind the lent ones gives the
// window back once the reader is done with it. The inbox is in order, so by
// the time the worker sees the recycle post it has copied every lent view.
// A chunked body is decoded in place in the reader's buffer, which it
// compacts, so it is never lent and takes its bytes a piece at a time, as
// before.

// windowCap is the capacity of b's window: the window and a couple of
// receives that may land past it while the read stops (growWire).
func (w *Worker) windowCap(b *bodyPipe) int { return b.win + 2*w.cfg.RecvBufferSize }

// windows are idle windows, shared by the workers (a window moves between
// a worker and a pool goroutine). Reusing them spares the clearing of a
// fresh allocation of a window per body and its garbage; the GC empties the
// pool when uploads stop. Two sizes are pooled (bodyPipe.win), so Get may
// return the other one: it is put back, and a new one made.
var windows [2]sync.Pool

func windowClass(n int) int {
	if n > bodyWindow {
		return 1
	}
	return 0
}

// getWindow returns an empty window of capacity n.
func getWindow(n int) []byte {
	if b, ok := windows[windowClass(n)].Get().(*[]byte); ok && cap(*b) == n {
		return (*b)[:0]
	}
	return make([]byte, 0, n)
}

// putWindow keeps b, a window no one uses any more, for the next body.
func putWindow(b []byte) {
	if cap(b) == 0 || cap(b) > 2*bodyWindow {
		return // swollen past a window's size: garbage
	}
	box := new([]byte)
	*box = b[:0]
	windows[windowClass(cap(b))].Put(box)
}

// swapWindow (fillBody, under s.mu, Content-Length only) gives the reader
// all the received bytes, the window itself, and the worker an empty one:
// the spare (from the pool when there is none: growWire). The reader's
// previous window becomes the spare, or, if views of it were lent to the
// connection, comes back behind the lent posts (recycle). A body thus
// cycles through at most three windows (the reader's, the worker's, one
// lent), each half the size of a chunked body's one (bodyPipe.win).
func (s *Stream) swapWindow() []byte {
	b := s.body
	give := b.wire
	b.wire, b.taken = b.spare, 0
	b.spare = nil
	s.dropReaderWindow()
	b.rbuf = give
	return give
}

// dropReaderWindow lets go of the reader's window (reader, under s.mu).
func (s *Stream) dropReaderWindow() {
	b := s.body
	old, lent := b.rbuf, b.rlent
	b.rbuf, b.rlent = nil, false
	switch {
	case old == nil:
	case lent:
		s.w.enqueue(post{s: s, recycle: old})
	case b.spare == nil && b.open:
		b.spare = old[:0]
	default:
		putWindow(old)
	}
}

// recycleWindow: the worker delivered every view lent from buf (deliver):
// it is s's spare window again.
func (w *Worker) recycleWindow(s *Stream, buf []byte) {
	b := s.body
	s.mu.Lock()
	if b != nil && b.open && b.spare == nil {
		b.spare, buf = buf[:0], nil
	}
	s.mu.Unlock()
	putWindow(buf)
}

// WriteTo copies the body to dst (io.WriterTo: io.Copy(dst, body) uses it)
// from the window itself, without a buffer of its own. A Content-Length
// body's views are lent to the connection when dst posts them as they are
// (lending), a chunked body's are copied as any write is.
func (sb *streamBody) WriteTo(dst io.Writer) (int64, error) {
	s := (*Stream)(sb)
	b := s.body
	var n int64
	for {
		p, err := b.r.Next()
		if len(p) > 0 {
			if !s.req.Chunked {
				s.lend = p
			}
			k, werr := dst.Write(p)
			s.lend = nil
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF || b.r.Done() {
			s.endBody()
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// lending reports whether p lies in the view the body's WriteTo is writing
// (producer goroutine: the writer's Write is called from WriteTo).
func (s *Stream) lending(p []byte) bool {
	if len(s.lend) == 0 || len(p) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(s.lend)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return at >= lo && at+uintptr(len(p)) <= lo+uintptr(len(s.lend))
}

// writeLent posts p, a view of the reader's window, without copying it:
// the worker copies it into the connection's output when it delivers it,
// and the window is not reused until a recycle post behind it says so.
func (s *Stream) writeLent(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k, err := s.reserve(len(p))
		if err != nil {
			return n, err
		}
		s.body.rlent = true
		s.w.enqueue(post{s: s, lent: p[:k]})
		p = p[k:]
		n += k
	}
	return n, nil
}

// deliverLent copies a lent view into c's output (deliver). A streamed
// body's echo is long: the output takes its stream's limit class at once
// rather than doubling to it, each doubling a copy of what it held.
func (w *Worker) deliverLent(c *conn, p []byte) {
	if c.out == nil {
		c.out = w.pool.get(max(outBufSize, min(c.stream.limit, maxJump)))
	}
	w.appendOut(c, p)
	w.queueSend(c)
}

// bodyRecvMax is the most one receive of a streamed body reads.
const bodyRecvMax = 128 << 10

// bodyRecv arms c's receive into a buffer of its own (as armClassic does,
// and onRecv gives back) when c streams a Content-Length body with more
// than a receive buffer left: as big as the window has room for, up to
// bodyRecvMax, rather than one provided buffer (RecvBufferSize) at a time.
// A megabyte then takes 8 receives, not 64, and the kernel acknowledges
// the freed socket space as often (each ACK a packet the loopback peer
// processes on this CPU). It reports false (arm as usual) otherwise.
func (w *Worker) bodyRecv(c *conn, sqe *uring.SQE) bool {
	s := c.stream
	if s == nil || s.body == nil || s.req.Chunked || s.body.wireLeft <= int64(w.cfg.RecvBufferSize) {
		return false
	}
	b := s.body
	s.mu.Lock()
	room := b.win - (len(b.wire) - b.taken)
	s.mu.Unlock()
	n := min(int64(room), b.wireLeft, bodyRecvMax)
	if n <= int64(w.cfg.RecvBufferSize) {
		return false
	}
	c.rbuf = w.pool.get(int(n))
	sqe.PrepRecv(c.fd, c.rbuf[:n], 0)
	return true
}

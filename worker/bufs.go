package worker

import (
	"fmt"

	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// bufGroupID is the group id of every worker's receive buffer group (one
// ring per worker, one group per ring). recv picks a buffer from it
// (IOSQE_BUFFER_SELECT) and names it in the CQE; the worker gives it back
// with Recycle as soon as it has parsed or copied the bytes. The group is a
// ring-mapped uring.BufRing (5.19+, the fast path) or classic
// uring.ProvidedBuffers (5.7+), whose Recycle queues an SQE with user_data
// opProvide.
const bufGroupID = 1

func newBufGroup(r *uring.Ring, count, size int) (uring.BufferGroup, error) {
	g, err := r.NewBufferGroup(bufGroupID, uint16(count), size, uint64(pack(opProvide, 0, 0)))
	if err != nil {
		return nil, fmt.Errorf("uringd: receive buffers (%d x %d bytes): %w", count, size, err)
	}
	return g, nil
}

// recycle gives a receive buffer back to the kernel, poisoned first when
// Config.DebugPoisonBuffers is set so that a handler that kept a view of it
// reads garbage.
func (w *Worker) recycle(bid uint16) {
	if w.cfg.DebugPoisonBuffers {
		b := w.bufs.Buf(bid)
		for i := range b {
			b[i] = poisonByte
		}
	}
	w.bufs.Recycle(bid)
	w.bufsHeld--
}

// armClassic fills sqe for c's next read when the group is classic
// (PROVIDE_BUFFERS, no buffer ring) and selectCap recvs already wait on it,
// or it just ran dry for c. 5.10 takes a classic buffer when a recv is
// issued and holds it while the recv waits for data: one waiting recv per
// idle connection drained the group, after which every recv failed at once
// with ENOBUFS and the worker spun re-arming them. So past selectCap a
// connection waits for data with a poll, which holds no buffer, and once
// data is there (or after ENOBUFS) reads it with a recv into a buffer of
// its own (rbuf), which completes at once and goes back to the pool.
func (w *Worker) armClassic(c *conn, sqe *uring.SQE) {
	if c.readable || c.noBufs {
		c.readable, c.noBufs = false, false
		c.rbuf = w.pool.get(w.cfg.RecvBufferSize)
		sqe.PrepRecv(c.fd, c.rbuf[:cap(c.rbuf)], 0)
		return
	}
	sqe.PrepPollAdd(c.fd, unix.POLLIN)
	c.polling = true
}

// recvEnded accounts the final CQE of c's recv: one recv fewer waits on the
// group, unless it read into c's own buffer (which its caller gives back
// once the bytes are consumed).
func (w *Worker) recvEnded(c *conn) {
	if c.rbuf == nil {
		w.selArmed--
	}
}

// onPoll handles the CQE of c's poll (armClassic): readable, hung up or
// failed, the recv armed next tells which; ECANCELED is our pause or close.
func (w *Worker) onPoll(c *conn, res int32) {
	c.polling = false
	c.recvArmed = false
	c.inflight--
	if unix.Errno(-res) != unix.ECANCELED {
		c.readable = true
	}
	if c.state == stateClosing {
		w.maybeClose(c)
		return
	}
	if c.tls != nil {
		w.tlsTryKernel(c) // the poll is gone: kernel TLS may take over (ktls.go)
	}
	if !c.rearmQueued && w.wantsRecv(c) {
		w.armRecv(c)
	}
}

// onProvide handles the CQE of a classic PROVIDE_BUFFERS. It fails only if
// the group is misconfigured (a bug); the buffer is then lost to the kernel
// and recv sees ENOBUFS sooner.
func (w *Worker) onProvide(res int32) {
	if res < 0 {
		w.unexpected(opProvide, res)
	}
}

// Get and Put let the pool serve as http1.BufferPool, for responses that
// outgrow their output buffer.
func (p *pool) Get(n int) []byte { return p.get(n) }
func (p *pool) Put(b []byte)     { p.put(b) }

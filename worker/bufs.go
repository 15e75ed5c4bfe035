package worker

import (
	"fmt"

	"github.com/uringd/uringd/uring"
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

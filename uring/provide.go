package uring

import (
	"fmt"
	"unsafe"
)

// ProvidedBuffers is a classic provided-buffer group (IORING_OP_PROVIDE_BUFFERS,
// kernel 5.7+), the fallback for kernels without buffer rings. Every hand-over
// to the kernel is an SQE, and its CQE carries the userData chosen at
// construction so the caller can recognise it: res >= 0 is success (ignore
// it), res < 0 is -errno (the buffers were not provided). The memory is
// mmap'd, off the Go heap. Not safe for concurrent use.
type ProvidedBuffers struct {
	r        *Ring
	bgid     uint16
	count    uint16
	size     int
	userData uint64
	bufs     []byte // mmap'd, count*size
	closed   bool
}

// NewProvidedBuffers maps count buffers of size bytes and queues one
// PROVIDE_BUFFERS SQE (user_data userData) handing all of them to group
// bgid, and submits it. Its CQE arrives with the caller's other completions.
// It returns an error wrapping ErrUnsupported when the ring lacks
// FeatProvideBuffers.
func (r *Ring) NewProvidedBuffers(bgid uint16, count uint16, size int, userData uint64) (*ProvidedBuffers, error) {
	if !r.features.Has(FeatProvideBuffers) {
		return nil, fmt.Errorf("uring: IORING_OP_PROVIDE_BUFFERS needs Linux 5.7+ and is not available or disabled: %w", ErrUnsupported)
	}
	if count == 0 || size <= 0 || size > 1<<31-1 {
		return nil, fmt.Errorf("uring: NewProvidedBuffers: count %d and size %d must be positive", count, size)
	}
	p := &ProvidedBuffers{r: r, bgid: bgid, count: count, size: size, userData: userData}
	var err error
	if p.bufs, err = Mmap(int(count) * size); err != nil {
		return nil, err
	}
	s := r.GetSQE()
	s.PrepProvideBuffers(unsafe.Pointer(&p.bufs[0]), int32(size), int32(count), bgid, 0)
	s.UserData = userData
	if _, err := r.Submit(); err != nil {
		// The SQE may still be queued; keep the memory until the ring closes.
		r.release(p.bufs)
		return nil, fmt.Errorf("uring: providing buffers to group %d: %w", bgid, err)
	}
	return p, nil
}

// Group returns the buffer group id.
func (p *ProvidedBuffers) Group() uint16 { return p.bgid }

// Count returns the number of buffers.
func (p *ProvidedBuffers) Count() uint16 { return p.count }

// Size returns the size of each buffer.
func (p *ProvidedBuffers) Size() int { return p.size }

// UserData returns the user_data of this group's PROVIDE/REMOVE_BUFFERS CQEs.
func (p *ProvidedBuffers) UserData() uint64 { return p.userData }

// Buf returns the whole buffer bid (len Size).
func (p *ProvidedBuffers) Buf(bid uint16) []byte {
	off := int(bid) * p.size
	return p.bufs[off : off+p.size : off+p.size]
}

// Recycle queues a PROVIDE_BUFFERS SQE (user_data UserData()) giving bid
// back. The kernel sees it at the next Submit/SubmitAndWait: a receive
// armed before that may still fail with -ENOBUFS.
func (p *ProvidedBuffers) Recycle(bid uint16) {
	s := p.r.GetSQE()
	s.PrepProvideBuffers(unsafe.Pointer(&p.bufs[int(bid)*p.size]), int32(p.size), 1, p.bgid, bid)
	s.UserData = p.userData
}

// Close queues and submits a REMOVE_BUFFERS SQE (user_data UserData()) for
// the group. Cancel operations that select from it first. The memory is
// retired (Retire) when the ring closes (at once if it is already closed).
func (p *ProvidedBuffers) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if !p.r.closed {
		s := p.r.GetSQE()
		s.PrepRemoveBuffers(int32(p.count), p.bgid)
		s.UserData = p.userData
		if _, e := p.r.Submit(); e != nil {
			err = fmt.Errorf("uring: removing buffer group %d: %w", p.bgid, e)
		}
	}
	if e := p.r.release(p.bufs); e != nil && err == nil {
		err = e
	}
	return err
}

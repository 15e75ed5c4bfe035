package uring

import (
	"sync/atomic"
	"unsafe"
)

// completionQueue is the CQ ring as mapped from the kernel plus local state.
// Only the kernel writes *ktail; only we write *khead.
type completionQueue struct {
	khead     *uint32 // us: first CQE not yet consumed
	ktail     *uint32 // kernel: one past the last CQE posted
	koverflow *uint32 // kernel: CQEs dropped (only without IORING_FEAT_NODROP)
	mask      uint32
	entries   uint32
	cqes      []CQE  // the mmap'd CQE array, len entries
	head      uint32 // local copy of *khead
}

func (q *completionQueue) init(ring []byte, p *params) {
	base := unsafe.Pointer(&ring[0])
	q.khead = (*uint32)(unsafe.Add(base, p.CQOffset.Head))
	q.ktail = (*uint32)(unsafe.Add(base, p.CQOffset.Tail))
	q.koverflow = (*uint32)(unsafe.Add(base, p.CQOffset.Overflow))
	q.mask = *(*uint32)(unsafe.Add(base, p.CQOffset.RingMask))
	q.entries = *(*uint32)(unsafe.Add(base, p.CQOffset.RingEntries))
	q.cqes = unsafe.Slice((*CQE)(unsafe.Add(base, p.CQOffset.Cqes)), q.entries)
	q.head = atomic.LoadUint32(q.khead)
}

// CQReady returns the number of CQEs ready to be read. With DEFER_TASKRUN
// completions are only posted while the ring's thread is inside
// SubmitAndWait, so a loop should wait, then walk.
//
// The walk, liburing style (io_uring_for_each_cqe + io_uring_cq_advance):
//
//	n := r.CQReady()
//	for i := uint32(0); i < n; i++ {
//		cqe := r.CQEAt(i) // points into the ring: read it before CQAdvance
//		...
//	}
//	r.CQAdvance(n)
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cq.ktail) - r.cq.head // acquire: CQE contents after the tail
}

// CQEAt returns the i-th ready CQE, i in [0, CQReady()). It points into the
// shared ring and is valid until CQAdvance releases it to the kernel.
func (r *Ring) CQEAt(i uint32) *CQE {
	return &r.cq.cqes[(r.cq.head+i)&r.cq.mask]
}

// CQAdvance marks n CQEs as consumed, giving their slots back to the kernel.
func (r *Ring) CQAdvance(n uint32) {
	r.cq.head += n
	atomic.StoreUint32(r.cq.khead, r.cq.head) // release: reads of the CQEs before the head moves
}

// CQOverflowed reports IORING_SQ_CQ_OVERFLOW: the CQ was full and the kernel
// holds completions on its overflow list (IORING_FEAT_NODROP, 5.5). They are
// moved into the CQ only when the ring enters the kernel with GETEVENTS
// (SubmitAndWait does; Submit does when it sees this flag). The caller must
// reap the CQ and enter; never ignore it.
func (r *Ring) CQOverflowed() bool {
	return atomic.LoadUint32(r.sq.kflags)&SQCQOverflow != 0
}

// CQDropped returns the count of CQEs the kernel dropped (only possible on
// kernels without IORING_FEAT_NODROP, i.e. before 5.5).
func (r *Ring) CQDropped() uint32 {
	return atomic.LoadUint32(r.cq.koverflow)
}

// More reports IORING_CQE_F_MORE: the multishot request that posted this CQE
// stays armed. A multishot CQE without it is the last one: re-arm.
func (c CQE) More() bool { return c.Flags&CQEFMore != 0 }

// BufferID returns the provided-buffer id the kernel picked
// (IORING_CQE_F_BUFFER set), and false when no buffer was consumed.
func (c CQE) BufferID() (uint16, bool) {
	if c.Flags&CQEFBuffer == 0 {
		return 0, false
	}
	return uint16(c.Flags >> CQEBufferShift), true
}

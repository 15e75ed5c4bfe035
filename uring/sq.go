package uring

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// submissionQueue is the SQ ring as mapped from the kernel plus local state.
// Without SQPOLL only the kernel writes *khead (during io_uring_enter) and
// only we write *ktail.
type submissionQueue struct {
	khead   *uint32 // kernel: first SQE not yet consumed
	ktail   *uint32 // us: one past the last SQE published to the kernel
	kflags  *uint32 // kernel: IORING_SQ_* (CQ_OVERFLOW, TASKRUN)
	mask    uint32
	entries uint32
	sqes    []SQE  // the mmap'd SQE array, len entries
	tail    uint32 // local: one past the last SQE handed out by GetSQE

	// deferred holds SQEs handed out while the SQ was full and the kernel
	// refused to take it (see GetSQE), in order, as chunks of entries SQEs
	// that never move (the caller fills an SQE after GetSQE returns).
	// Chunks are allocated on first need and kept.
	deferred      [][]SQE
	deferredHead  uint32 // first deferred SQE not yet copied into the SQ
	deferredCount uint32 // one past the last deferred SQE
}

func (q *submissionQueue) init(ring, sqes []byte, p *params) {
	base := unsafe.Pointer(&ring[0])
	q.khead = (*uint32)(unsafe.Add(base, p.SQOffset.Head))
	q.ktail = (*uint32)(unsafe.Add(base, p.SQOffset.Tail))
	q.kflags = (*uint32)(unsafe.Add(base, p.SQOffset.Flags))
	q.mask = *(*uint32)(unsafe.Add(base, p.SQOffset.RingMask))
	q.entries = *(*uint32)(unsafe.Add(base, p.SQOffset.RingEntries))
	q.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&sqes[0])), q.entries)
	// The SQ index array is the identity: slot i holds SQE i, forever
	// (liburing does the same; IORING_SETUP_NO_SQARRAY removes it on 6.6+).
	array := unsafe.Slice((*uint32)(unsafe.Add(base, p.SQOffset.Array)), q.entries)
	for i := range array {
		array[i] = uint32(i)
	}
	q.tail = atomic.LoadUint32(q.ktail)
}

// GetSQE returns the next free SQE, cleared. When the SQ is full it first
// submits what is queued (one io_uring_enter) instead of failing, so it
// never returns nil and never allocates in steady state. The SQE is only
// handed to the kernel by the next Submit/SubmitAndWait (or by a later
// GetSQE on a full SQ).
//
// If that flush fails it does not panic: 5.10-5.18 answer EBUSY while
// completions wait on the overflow list and the CQ is full, which is the
// case in a CQE walk (the walk releases the CQ only at CQAdvance). The SQE
// is then kept aside, with every later one until the next Submit or
// SubmitAndWait copies them into the SQ in order. A flush error other than
// EBUSY/EAGAIN is reported by that Submit.
func (r *Ring) GetSQE() *SQE {
	q := &r.sq
	if q.deferredCount != 0 {
		return q.deferSQE() // behind the ones already waiting: keep the order
	}
	for {
		if s := r.nextSQE(); s != nil {
			return s
		}
		if n, err := r.submitQueued(); err != nil || n == 0 {
			return q.deferSQE()
		}
	}
}

// deferSQE hands out the next slot of the deferred list, cleared.
func (q *submissionQueue) deferSQE() *SQE {
	c := q.deferredCount / q.entries
	if int(c) == len(q.deferred) {
		q.deferred = append(q.deferred, make([]SQE, q.entries))
	}
	s := &q.deferred[c][q.deferredCount%q.entries]
	q.deferredCount++
	*s = SQE{}
	return s
}

// moveDeferred copies deferred SQEs into the SQ while it has room and
// reports whether any are left.
func (r *Ring) moveDeferred() bool {
	q := &r.sq
	for q.deferredHead < q.deferredCount {
		s := r.nextSQE()
		if s == nil {
			return true
		}
		*s = q.deferred[q.deferredHead/q.entries][q.deferredHead%q.entries]
		q.deferredHead++
	}
	q.deferredHead, q.deferredCount = 0, 0
	return false
}

// nextSQE hands out the next slot, or nil when all entries are queued.
func (r *Ring) nextSQE() *SQE {
	q := &r.sq
	if q.tail-atomic.LoadUint32(q.khead) >= q.entries {
		return nil
	}
	s := &q.sqes[q.tail&q.mask]
	q.tail++
	*s = SQE{}
	return s
}

// SQSpace returns how many SQEs GetSQE can hand out before it has to flush
// (0 while SQEs are deferred).
func (r *Ring) SQSpace() uint32 {
	if r.sq.deferredCount != 0 {
		return 0
	}
	return r.sq.entries - (r.sq.tail - atomic.LoadUint32(r.sq.khead))
}

// SQPending returns the number of SQEs handed out and not yet consumed by
// the kernel, deferred ones included.
func (r *Ring) SQPending() uint32 {
	return r.sq.tail - atomic.LoadUint32(r.sq.khead) + r.sq.deferredCount - r.sq.deferredHead
}

// flushSQ publishes every SQE handed out so far and returns how many the
// kernel has not consumed yet (liburing: __io_uring_flush_sq).
func (r *Ring) flushSQ() uint32 {
	atomic.StoreUint32(r.sq.ktail, r.sq.tail) // release: SQE contents before the tail
	return r.sq.tail - atomic.LoadUint32(r.sq.khead)
}

// Submit hands every queued SQE to the kernel and returns how many it took.
// It does not enter the kernel when nothing is queued and the CQ has not
// overflowed. EINTR is retried. Other errors are the bare syscall.Errno:
// EBUSY or EAGAIN mean "reap completions, then retry". Deferred SQEs (see
// GetSQE) that did not fit in the SQ stay queued for the next call.
func (r *Ring) Submit() (int, error) {
	submitted := 0
	for {
		more := r.moveDeferred()
		n, err := r.submitQueued()
		submitted += n
		if err != nil || !more || n == 0 {
			return submitted, err
		}
	}
}

// submitQueued is one io_uring_enter for what is in the SQ.
func (r *Ring) submitQueued() (int, error) {
	toSubmit := r.flushSQ()
	var flags uint32
	if r.CQOverflowed() {
		flags = EnterGetEvents // let the kernel flush its overflow list
	} else if toSubmit == 0 {
		return 0, nil
	}
	for {
		n, errno := enter(r.enterFD, toSubmit, 0, flags|r.enterFlags, nil, 0)
		if errno == 0 {
			return n, nil
		}
		if errno != syscall.EINTR {
			return 0, errno
		}
	}
}

// SubmitAndWait submits every queued SQE and waits until at least n CQEs are
// ready (n may be 0: then it only submits and, with DEFER_TASKRUN, runs
// pending completions). It returns the number of SQEs submitted. EINTR (the
// Go runtime's preemption signals cause many) is retried; a wait cut short
// after a partial submit is resumed. It blocks in syscall.Syscall6, so the Go
// scheduler runs other goroutines meanwhile.
func (r *Ring) SubmitAndWait(n uint32) (int, error) {
	submitted := 0
	for {
		wait := n
		if r.moveDeferred() {
			wait = 0 // the rest goes in first: their completions may be the ones awaited
		}
		toSubmit := r.flushSQ()
		var got int
		var errno syscall.Errno
		if r.rawWait {
			got, errno = enterRaw(r.enterFD, toSubmit, wait, EnterGetEvents|r.enterFlags)
		} else {
			got, errno = enter(r.enterFD, toSubmit, wait, EnterGetEvents|r.enterFlags, nil, 0)
		}
		switch errno {
		case 0:
			submitted += got
		case syscall.EINTR:
			if r.rawWait {
				// A signal (most often the runtime asking this goroutine
				// to stop for GC or preemption) cut the raw wait short;
				// the syscall was no safe point, so yield here.
				runtime.Gosched()
			}
		default:
			return submitted, errno
		}
		if r.CQReady() >= n && r.SQPending() == 0 {
			return submitted, nil
		}
	}
}

// SubmitAndWaitTimeout is SubmitAndWait that gives up after d: a timeout
// (ETIME) is not an error, the caller sees fewer than n CQEs ready. It needs
// IORING_FEAT_EXT_ARG (5.11) and returns ErrUnsupported without it (on 5.10,
// queue a PrepTimeout SQE instead).
func (r *Ring) SubmitAndWaitTimeout(n uint32, d time.Duration) (int, error) {
	if !r.features.Has(FeatExtArg) {
		return 0, ErrUnsupported
	}
	deadline := time.Now().Add(d)
	submitted := 0
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		r.waitTS = unix.NsecToTimespec(int64(left))
		r.waitArg = geteventsArg{Ts: uint64(uintptr(unsafe.Pointer(&r.waitTS)))}
		wait := n
		if r.moveDeferred() {
			wait = 0
		}
		toSubmit := r.flushSQ()
		got, errno := enter(r.enterFD, toSubmit, wait, EnterGetEvents|EnterExtArg|r.enterFlags,
			unsafe.Pointer(&r.waitArg), unsafe.Sizeof(r.waitArg))
		switch errno {
		case 0:
			submitted += got
		case syscall.ETIME, syscall.EINTR:
		default:
			return submitted, errno
		}
		if r.SQPending() == 0 && (r.CQReady() >= n || errno == syscall.ETIME || left == 0) {
			return submitted, nil
		}
	}
}

package engine

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// SubmitFromLoop is Submit for a caller on a thread that keeps its P while
// it waits in the kernel (an io_uring worker with uring.Options.RawWait).
//
// Submit readies the job's goroutine from the caller's thread, and the Go
// runtime puts a goroutine readied there in that P's runnext slot. The
// worker's P never runs it: the worker goes back to its raw wait. Another P
// must steal it, and stealing runnext from a running P starts with a
// usleep(3) (runqgrab lets the owner run it first). A profile of the 1 ms
// blocking handler on one CPU put 29% of the server's context switches in
// that nanosleep, on top of the futex wake of the thread that steals.
//
// SubmitFromLoop decides as Submit does (an idle goroutine, a new one, the
// queue, or a refusal) but readies nothing itself: the handoff waits for
// the dispatcher, a goroutine parked on an eventfd in Go's netpoller. When
// the dispatcher is not already awake, kickFD is that eventfd (else -1),
// and the caller must write an 8-byte 1 to it soon (Kick), and not under a
// lock the pool's goroutines take: the write readies the dispatcher's
// thread, which may preempt the caller's on a shared CPU. The worker writes
// it through its ring, in the io_uring_enter that also waits, once for
// every job of a loop turn. The netpoller readies the dispatcher on another
// P's thread, the dispatcher hands the jobs to their goroutines there, and
// those run on that P when the dispatcher parks again: no steal.
//
// There is one dispatcher and one eventfd per process, started with the
// first call and never closed: a write the caller has queued (in its ring)
// can then never reach another file, and no Pool holds a descriptor. If
// the eventfd cannot be created, SubmitFromLoop falls back to Submit's way.
func (p *Pool) SubmitFromLoop(j Job) (ok bool, kickFD int) {
	p.mu.Lock()
	h := handoff{p: p, j: j}
	switch n := len(p.idle); {
	case n > 0:
		h.ch = p.idle[n-1].ch
		p.idle[n-1] = idleGo{}
		p.idle = p.idle[:n-1]
	case p.running < p.size:
		p.running++
	case len(p.queue) >= p.qmax:
		p.mu.Unlock()
		return false, -1
	default:
		// A busy goroutine takes it from the queue (next): nothing to wake.
		p.queue = append(p.queue, j)
		p.mu.Unlock()
		return true, -1
	}
	p.mu.Unlock()
	k := &kicker
	k.once.Do(startDispatcher)
	if k.file == nil {
		h.run() // no eventfd: ready it from here, as Submit does
		return true, -1
	}
	k.mu.Lock()
	k.pending = append(k.pending, h)
	kickFD = -1
	if !k.awake {
		k.awake = true
		kickFD = k.fd
	}
	k.mu.Unlock()
	return true, kickFD
}

// Kick writes the dispatcher's eventfd (kickFD from SubmitFromLoop), for a
// caller that cannot queue the write elsewhere.
func Kick(kickFD int) {
	one := [8]byte{1}
	unix.Write(kickFD, one[:]) // non-blocking: fails only at a counter of 2^64-2, which wakes the reader anyway
}

// kicker is the process's dispatcher.
var kicker struct {
	once    sync.Once
	fd      int      // the eventfd, written by SubmitFromLoop's callers
	file    *os.File // the same fd, read by the dispatcher through the netpoller; nil if none could be made
	mu      sync.Mutex
	awake   bool      // guarded by mu: the dispatcher will look at pending again without a write
	pending []handoff // guarded by mu: decided by SubmitFromLoop, not yet handed over
}

// handoff is a decided job of pool p: to the idle goroutine waiting on ch,
// or (ch nil) to a new goroutine, already counted in p.running.
type handoff struct {
	p  *Pool
	ch chan Job
	j  Job
}

func (h handoff) run() {
	if h.ch != nil {
		h.ch <- h.j // buffered (1) and empty: an idle goroutine waits on it
	} else {
		go h.p.loop(h.j)
	}
}

// startDispatcher creates the eventfd and starts the dispatcher, awake:
// the first handoff needs no write.
func startDispatcher() {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return
	}
	k := &kicker
	// A non-blocking fd given to os.NewFile is put in the netpoller: Read
	// parks the goroutine, not a thread. (Never call file.Fd: it would make
	// the fd blocking.) The file stays reachable (kicker), so it is never
	// closed.
	k.fd, k.file, k.awake = fd, os.NewFile(uintptr(fd), "uringd-pool-kick"), true
	go dispatch(k.file)
}

// testDispatchDelay (ns) makes the dispatcher pause after each batch.
var testDispatchDelay atomic.Int64

// dispatch hands pending jobs to their goroutines, forever. The handshake
// with SubmitFromLoop, under kicker.mu: the dispatcher clears awake only
// when it found pending empty, right before it reads the eventfd; a
// submitter that then finds awake false has its caller write the eventfd,
// so that read (or the next) returns. Read tries read(2) before it parks,
// so a write that came after the look at pending is seen even if its
// netpoll event came before the park. Eventfd reads reset the counter: a
// kick written while the dispatcher was awake costs one spurious pass at
// most, never a lost job.
func dispatch(f *os.File) {
	var buf [8]byte
	var batch []handoff // the dispatcher's half of the double buffer
	k := &kicker
	for {
		k.mu.Lock()
		batch, k.pending = k.pending, batch[:0]
		if len(batch) == 0 {
			k.awake = false
		}
		k.mu.Unlock()
		if len(batch) > 0 {
			for i := range batch {
				batch[i].run()
				batch[i] = handoff{}
			}
			if d := testDispatchDelay.Load(); d > 0 {
				time.Sleep(time.Duration(d)) // tests: widen the window where submits meet a busy dispatcher
			}
			continue
		}
		f.Read(buf[:]) // no deadline: it returns when written
	}
}

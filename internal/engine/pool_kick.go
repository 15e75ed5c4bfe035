package engine

import (
	"errors"
	"os"
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
// queue, or a refusal) but readies nothing itself: the handoff waits in
// kick.pending for the dispatcher, a goroutine parked on an eventfd in Go's
// netpoller. When the dispatcher is not already awake, kickFD is that
// eventfd (else -1), and the caller must write an 8-byte 1 to it soon, and
// not under a lock the pool's goroutines take: the write readies the
// dispatcher's thread, which may preempt the caller's on a shared CPU. The
// worker writes it through its ring, in the io_uring_enter that also waits,
// once for every job of a loop turn. The netpoller readies the dispatcher
// on the spare P's own thread, the dispatcher hands the jobs to their
// goroutines there, and those run on that P when the dispatcher parks
// again: no steal.
//
// The dispatcher starts on demand and retires after poolIdle without work.
// Its eventfd stays open for the Pool's life, so that a write the caller
// has queued can never reach another file; it is closed with the Pool (by
// the os.File's cleanup, once the Pool is unreachable). If the eventfd cannot
// be created, SubmitFromLoop falls back to Submit's way.
func (p *Pool) SubmitFromLoop(j Job) (ok bool, kickFD int) {
	p.mu.Lock()
	h := handoff{j: j}
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
	k := &p.kick
	if !k.running && !p.startDispatcher() {
		p.mu.Unlock()
		h.run(p) // no eventfd: ready it from here, as Submit does
		return true, -1
	}
	k.pending = append(k.pending, h)
	kickFD = -1
	if !k.awake {
		k.awake = true
		kickFD = k.fd
	}
	p.mu.Unlock()
	return true, kickFD
}

// Kick writes the dispatcher's eventfd (kickFD from SubmitFromLoop), for a
// caller that cannot queue the write elsewhere.
func Kick(kickFD int) {
	one := [8]byte{1}
	unix.Write(kickFD, one[:]) // non-blocking: fails only at a counter of 2^64-2, which wakes the reader anyway
}

// kick is the dispatcher's state, guarded by Pool.mu.
type kick struct {
	running bool          // a dispatcher goroutine exists
	awake   bool          // the dispatcher will look at pending again without a write
	fd      int           // the eventfd, written by SubmitFromLoop's caller; 0 until the first start
	file    *os.File      // the same fd, read by the dispatcher through the netpoller
	pending []handoff     // decided by SubmitFromLoop, not yet handed over
	idle    time.Duration // how long the dispatcher waits for a kick before it retires; 0: poolIdle (tests set it)
}

// handoff is a decided job: to the idle goroutine waiting on ch, or (ch nil)
// to a new goroutine, already counted in running.
type handoff struct {
	ch chan Job
	j  Job
}

func (h handoff) run(p *Pool) {
	if h.ch != nil {
		h.ch <- h.j // buffered (1) and empty: an idle goroutine waits on it
	} else {
		go p.loop(h.j)
	}
}

// startDispatcher starts the dispatcher (under mu), creating the eventfd the
// first time. The dispatcher is started awake: the first handoff needs no
// write.
func (p *Pool) startDispatcher() bool {
	k := &p.kick
	if k.file == nil {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			return false
		}
		// A non-blocking fd given to os.NewFile is put in the netpoller:
		// Read parks the goroutine, not a thread. (Never call file.Fd: it
		// would make the fd blocking.)
		k.fd, k.file = fd, os.NewFile(uintptr(fd), "uringd-pool-kick")
	}
	k.running, k.awake = true, true
	go p.dispatch(k.file)
	return true
}

// dispatch hands pending jobs to their goroutines until kick.idle passes
// without any. The handshake with SubmitFromLoop, all under mu: the
// dispatcher clears awake only when it found pending empty, right before it
// reads the eventfd; a submitter that then finds awake false writes the
// eventfd, so that read (or the next) returns; eventfd reads reset the
// counter, so a kick that came while the dispatcher was awake costs one
// spurious pass at most, never a lost job.
func (p *Pool) dispatch(f *os.File) {
	var buf [8]byte
	var batch []handoff // the dispatcher's half of the double buffer
	k := &p.kick
	idle := k.idle // set before the pool's first use
	if idle == 0 {
		idle = poolIdle
	}
	var until time.Time // the read deadline set
	for {
		p.mu.Lock()
		batch, k.pending = k.pending, batch[:0]
		if len(batch) == 0 {
			k.awake = false
		}
		p.mu.Unlock()
		if len(batch) > 0 {
			for i := range batch {
				batch[i].run(p)
				batch[i] = handoff{}
			}
			continue
		}
		// Read tries the read(2) first, so a kick that came after the
		// look at pending is seen even if its netpoll event was not.
		// The deadline moves only when half of it is used up: resetting
		// a timer on every pass costs more than the pass.
		if now := time.Now(); now.After(until.Add(-idle / 2)) {
			until = now.Add(idle)
			_ = f.SetReadDeadline(until)
		}
		if _, err := f.Read(buf[:]); err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			p.mu.Lock()
			if !k.awake && len(k.pending) == 0 {
				k.running = false
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
		}
	}
}

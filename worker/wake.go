package worker

import (
	"runtime"
	"unsafe"
)

// When a producer wakes the worker.
//
// A post needs an eventfd write only when the worker is asleep in the
// kernel: awake, it looks at the inbox before it waits again (beforeWait).
// And a write is a thread switch at worst: on a CPU shared with the pool's
// goroutines (one core; or a worker and the spare P's thread on the same
// CPU), the woken worker preempts the producer's thread, delivers one
// response, sleeps again, and the next producer wakes it again. A producer
// at the end of its response (Finish) therefore defers its write: it yields
// (runtime.Gosched) so that the pool goroutines already runnable on its P,
// typically the other handlers whose 1 ms timers expired in the same
// netpoll turn, post their responses first, and then writes once for all
// of them. Deferring adds to a response's latency only the run time of
// goroutines that were ready before it.
//
// The handshake, every step under off.mu:
//   - the worker sets sleeping only when the inbox is empty, right before
//     it waits, and clears it when the wait returns;
//   - a producer appends its post; if the worker is sleeping and no wake is
//     owed or written (wakeNone), the post is on it: it writes the eventfd
//     (wakeWritten) or, deferring, marks the wake owed (wakeOwed) with the
//     drain generation it saw;
//   - every drain bumps the generation; a drain takes an owed wake's posts,
//     so it clears the debt (the owed producer then writes nothing), and
//     the eventfd completion (onWakeup) clears a written one;
//   - the owing producer writes later only if its debt is still the
//     current one (same generation).
//
// So while the worker sleeps with posts in the inbox, a wake is written
// (its completion will come) or owed by a producer that is about to write
// it; no post waits for an unrelated event. The owing producer must pay
// before it can block (reserve, Finish): TestOffloadDeferredWakeups.

// wakeState is whether the sleeping worker has a wake on its way.
type wakeState uint8

const (
	wakeNone    wakeState = iota
	wakeOwed              // a producer will write the eventfd (payWake)
	wakeWritten           // the eventfd was written; its completion is not in yet
)

// post appends p to the inbox. A wake due is written now, or, with deferWake,
// left to the caller: owe is then true and tok is the generation to give
// payWake.
func (w *Worker) post(p post, deferWake bool) (owe bool, tok uint32) {
	o := &w.off
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false, 0
	}
	o.msgs = append(o.msgs, p)
	if !o.sleeping || o.wake != wakeNone {
		o.mu.Unlock()
		return false, 0
	}
	if deferWake {
		o.wake = wakeOwed
		tok = o.gen
		o.mu.Unlock()
		return true, tok
	}
	o.wake = wakeWritten
	o.mu.Unlock()
	w.writeWake()
	return false, 0
}

// payWake writes the eventfd for a wake owed since generation tok, unless a
// drain took the posts meanwhile.
func (w *Worker) payWake(tok uint32) {
	o := &w.off
	o.mu.Lock()
	pay := !o.closed && o.wake == wakeOwed && o.gen == tok
	if pay {
		o.wake = wakeWritten
	}
	o.mu.Unlock()
	if pay {
		w.writeWake()
	}
}

// writeWake writes the eventfd, outside off.mu: on a CPU it shares with the
// producer, the woken worker may preempt the producer at once, and would
// then block on off.mu (a locked thread parking: two more switches) if the
// producer held it.
func (w *Worker) writeWake() {
	o := &w.off
	o.efdMu.RLock()
	if !o.efdGone {
		w.wake()
	}
	o.efdMu.RUnlock()
}

// yieldThenWake is payWake after the producer's runnable neighbours ran.
func (w *Worker) yieldThenWake(tok uint32) {
	runtime.Gosched()
	w.payWake(tok)
}

// beforeWait is called by the loop right before it enters the kernel, and
// returns how many completions to wait for. Posts that came in while the
// worker was awake are delivered now, and their sends queued, without a
// wakeup. If the inbox is empty then, the worker is marked sleeping and
// waits for one completion; if more came meanwhile it does not wait (a
// stream of posts must not keep the SQEs from being submitted). A kick of
// the pool's dispatcher due this turn is queued last (armKick).
func (w *Worker) beforeWait() uint32 {
	if w.cfg.Offload == nil {
		return 1 // nothing is ever posted
	}
	o := &w.off
	if o.kickFD >= 0 && !o.kickHeld && w.ring.SQPending() > 0 {
		// Submit the turn's sends first, without the kick: they complete
		// at once, and their CQEs would end the wait that the kick's
		// write is meant to share; the woken dispatcher's thread would
		// then preempt this one on its way back to user space. With CQEs
		// in, take them first; the kick goes with the next wait (held
		// once at most: it must not wait behind a busy loop).
		w.ring.Submit() // an error is reported by the SubmitAndWait that follows
		if w.ring.CQReady() > 0 {
			o.kickHeld = true
			return 0
		}
	}
	wait := uint32(1)
	for pass := 0; ; pass++ {
		o.mu.Lock()
		if len(o.msgs) == 0 {
			o.sleeping = true
			o.mu.Unlock()
			break
		}
		o.mu.Unlock()
		if pass > 0 {
			wait = 0
			break
		}
		w.drainOffload(false)
		w.endOfTurn()
	}
	if o.kickFD >= 0 {
		w.armKick()
		if wait > 0 {
			wait++ // the kick's own completion comes at once: wait for one more
		}
	}
	return wait
}

// armKick queues the eventfd write that wakes the pool's dispatcher for the
// jobs submitted this turn (engine.Pool.SubmitFromLoop). Through the ring,
// in the io_uring_enter that then waits: the dispatcher's thread is woken
// as this one goes to sleep, and a shared CPU switches once, instead of the
// woken thread preempting this one in the middle of its turn. The write
// completes at once (a non-blocking eventfd); its CQE is counted and
// dropped.
func (w *Worker) armKick() {
	o := &w.off
	sqe := w.ring.GetSQE()
	sqe.PrepWritev(int32(o.kickFD), unsafe.Slice(&o.kickIov, 1), 0)
	sqe.SetUserData(uint64(pack(opKick, 0, 0)))
	o.kickFD = -1
	o.kickHeld = false
	o.kicks++
}

// afterWait: the worker is awake; posts need no wake until beforeWait.
func (w *Worker) afterWait() {
	if w.cfg.Offload == nil {
		return
	}
	o := &w.off
	o.mu.Lock()
	o.sleeping = false
	o.mu.Unlock()
}

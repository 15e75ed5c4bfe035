package worker

import (
	"fmt"
	"time"

	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// loop is the event loop. Each turn:
//
//  1. walks every ready CQE in place and dispatches it (dispatch, below);
//  2. queues at most one send per connection with pending output and no send
//     in flight, so everything answered in this turn goes out in one send,
//     and re-arms the recvs that ran out of buffers;
//  3. publishes the counters;
//  4. makes one io_uring_enter: submit everything, wait for one completion.
//
// It returns when the worker has shut down and no op is in flight.
func (w *Worker) loop() error {
	for {
		w.turn = time.Since(w.start)
		w.nowTick = uint64(w.turn / w.tick)
		n := w.ring.CQReady()
		for i := uint32(0); i < n; i++ {
			w.dispatch(w.ring.CQEAt(i))
		}
		w.ring.CQAdvance(n)
		w.endOfTurn()
		if w.exiting && w.quiet() {
			w.publish()
			return nil
		}
		if w.ring.CQOverflowed() {
			// CQEs wait in the kernel's overflow list; entering with
			// GETEVENTS (SubmitAndWait does) flushes them into the CQ.
			w.stats.inc(cCQOverflows)
		}
		w.stats.inc(cLoops)
		w.publish()
		_, err := w.ring.SubmitAndWait(w.beforeWait())
		w.afterWait()
		if err != nil {
			if err == unix.EBUSY || err == unix.EAGAIN {
				continue // the kernel wants completions reaped first
			}
			return fmt.Errorf("uringd: worker %d: io_uring_enter: %w", w.cfg.ID, err)
		}
	}
}

// publish copies the counters and gauges for Stats readers.
func (w *Worker) publish() {
	w.stats.c[cBufsInUse] = uint64(w.pool.inUse + w.pool.onHeap)
	w.stats.c[cBufBytesMapped] = uint64(w.pool.mapped)
	w.stats.c[cRecvBufsHeld] = uint64(w.bufsHeld)
	w.stats.c[cBodyBufferBytes] = uint64(w.inBytes)
	w.stats.publish()
}

// dispatch routes one CQE by the op in its user_data. Connection ops whose
// generation does not match the slot's belong to a connection that was
// closed (and maybe replaced) and are dropped.
func (w *Worker) dispatch(cqe *uring.CQE) {
	u := userData(cqe.UserData)
	switch u.op() {
	case opAccept:
		w.onAccept(cqe.Res, cqe.More())
	case opTimer:
		w.onTimer(cqe.Res, cqe.More())
	case opWakeup:
		w.onWakeup(cqe.Res)
	case opProvide:
		w.onProvide(cqe.Res)
	case opReject, opListenerClose:
		w.onReject(u, cqe.Res)
	case opKick:
		w.off.kicks--
	case opRecv, opSend, opCancel, opShutdown, opClose:
		c := w.conns.at(u.slot())
		if c == nil || c.gen != u.gen() || c.state == stateFree {
			w.stats.inc(cStaleCQEs)
			w.recycleStale(cqe)
			return
		}
		w.dispatchConn(c, u.op(), cqe)
	default:
		panic(fmt.Sprintf("uringd: worker %d: CQE with unknown user_data %#x (res %d)", w.cfg.ID, cqe.UserData, cqe.Res))
	}
}

func (w *Worker) dispatchConn(c *conn, o op, cqe *uring.CQE) {
	switch o {
	case opRecv:
		w.onRecv(c, cqe)
	case opSend:
		w.onSend(c, cqe.Res)
	case opCancel:
		w.onCancel(c, cqe.Res)
	case opShutdown:
		w.onShutdown(c, cqe.Res)
	case opClose:
		w.onClose(c, cqe.Res)
	}
}

// recycleStale gives back a receive buffer the kernel filled for a
// connection that no longer exists. (Cannot happen while slots are recycled
// only with no op in flight; kept so that a bug leaks no buffer.)
func (w *Worker) recycleStale(cqe *uring.CQE) {
	if bid, ok := cqe.BufferID(); ok {
		w.bufsHeld++
		w.recycle(bid)
	}
}

// endOfTurn runs the timer tick, if one came, after every I/O completion of
// the turn (a worker that stalled first takes the bytes that arrived
// meanwhile, then expires deadlines), then queues the sends and recv
// re-arms decided during the turn.
func (w *Worker) endOfTurn() {
	if w.tickDue {
		w.tickDue = false
		w.onTick()
	}
	for _, s := range w.rearmQ {
		c := w.conns.at(s)
		c.rearmQueued = false
		if w.wantsRecv(c) {
			w.armRecv(c)
		}
	}
	w.rearmQ = w.rearmQ[:0]
	for _, s := range w.sendQ {
		c := w.conns.at(s)
		c.sendQueued = false
		if !c.sending && c.pending() > 0 && (c.state == stateOpen || c.state == stateDraining) {
			w.armSend(c)
		}
	}
	w.sendQ = w.sendQ[:0]
}

// unexpected reports a CQE error the op's errno table does not list: a bug
// in the worker or a kernel behaviour it does not know. The connection (if
// any) is closed by the caller; the worker lives on.
func (w *Worker) unexpected(o op, res int32) {
	w.log.Error("unexpected errno", "op", o.String(), "errno", unix.Errno(-res).Error(), "res", res)
}

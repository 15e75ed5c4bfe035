package worker

import (
	"time"

	"golang.org/x/sys/unix"
)

// The timeouts a connection can be under, one at a time, chosen by what it
// is waiting for (see expire).
const (
	timeoutHead  = iota // head of a request must be complete by reqStart + HeaderTimeout
	timeoutBody         // each read of an incomplete body within BodyTimeout
	timeoutIdle         // keep-alive with nothing in progress
	timeoutWrite        // pending output must make progress within WriteTimeout
	nTimeouts
)

// wheelSize buckets of one tick each: deadlines further away than that stay
// in their bucket and are looked at once per rotation.
const wheelSize = 1024

func (w *Worker) initTimers() {
	w.tick = w.cfg.Tick
	w.start = time.Now()
	w.wheel = newWheel(wheelSize)
	w.ticks[timeoutHead] = w.ticksFor(w.cfg.HeaderTimeout)
	w.ticks[timeoutBody] = w.ticksFor(w.cfg.BodyTimeout)
	w.ticks[timeoutIdle] = w.ticksFor(w.cfg.IdleTimeout)
	w.ticks[timeoutWrite] = w.ticksFor(w.cfg.WriteTimeout)
	w.reading = readLimits{rate: w.cfg.MinBodyRate, tick: w.tick}
	if w.cfg.MinBodyRateGrace > 0 {
		w.reading.grace = w.ticksFor(w.cfg.MinBodyRateGrace)
	}
	if w.cfg.RequestReadTimeout > 0 {
		w.reading.whole = w.ticksFor(w.cfg.RequestReadTimeout)
	}
	w.tickTS = unix.NsecToTimespec(int64(w.tick))
	w.nowTick = 0
	w.date.Update(w.start)
}

// ticksFor rounds d up to whole ticks, plus two. Deadlines count from the
// wheel's now, the tick of the last timer CQE, which lags the clock by up to
// one tick interval; and the next tick may come a little early on that grid
// (the kernel's timer is not phase-locked to w.start). With +1 an idle
// timeout of 150ms was seen firing after 90ms; +2 makes a timeout never fire
// early, at the price of firing up to two ticks late.
func (w *Worker) ticksFor(d time.Duration) uint64 {
	return uint64((d+w.tick-1)/w.tick) + 2
}

// armTimer submits the tick: a multishot timeout (6.4+) that fires every
// tick until cancelled, or a single-shot one re-armed at each CQE.
func (w *Worker) armTimer() {
	sqe := w.ring.GetSQE()
	if w.multishotTimer {
		sqe.PrepTimeoutMultishot(&w.tickTS)
	} else {
		sqe.PrepTimeout(&w.tickTS, 0, 0)
	}
	sqe.SetUserData(uint64(pack(opTimer, 0, 0)))
	w.timerArmed = true
}

// onTimer handles a tick. Errno table: ETIME is the timeout firing (normal);
// ECANCELED is our cancel at exit; anything else is logged. A CQE without
// F_MORE ends the timer (single-shot, or the kernel ended the multishot):
// re-arm unless exiting.
func (w *Worker) onTimer(res int32, more bool) {
	if !more {
		w.timerArmed = false
	}
	switch e := unix.Errno(-res); {
	case res >= 0, e == unix.ETIME:
	case e == unix.ECANCELED:
		return
	default:
		w.unexpected(opTimer, res)
	}
	if w.exiting {
		if w.timerArmed {
			// The cancel missed: it ran while this expiry was being
			// completed (the kernel takes a firing multishot timeout off
			// its list until it re-arms it) and found nothing. Again.
			w.cancel(pack(opTimer, 0, 0), pack(opListenerClose, 0, 0))
		}
		return
	}
	if !w.timerArmed {
		w.armTimer()
	}
	w.tickDue = true // onTick runs at the end of the turn (endOfTurn)
}

// onTick refreshes the Date line, expires deadlines, retries a paused accept
// and moves the shutdown along.
func (w *Worker) onTick() {
	now := time.Now()
	w.date.Update(now)
	w.expired = w.wheel.advance(w.nowTick, w.expired[:0])
	for _, s := range w.expired {
		w.expire(w.conns.at(s))
	}
	w.resumeAccept()
	if w.holdFresh {
		w.sweepFresh()
	}
	w.checkRun()
}

// expire closes c, whose deadline passed, counting why.
func (w *Worker) expire(c *conn) {
	switch {
	case c.state == stateLingering:
	case c.sending || c.pending() > 0:
		w.stats.inc(cTimeoutWrite)
	case c.inRequest && c.parser.InBody(), c.stream != nil:
		w.stats.inc(cTimeoutBody)
	case c.inRequest || c.in != nil:
		w.stats.inc(cTimeoutHead)
	default:
		w.stats.inc(cTimeoutIdle)
		if c.tls != nil && w.tlsCloseIdle(c) {
			return
		}
	}
	if c.tls != nil {
		w.tlsExpired(c)
	}
	w.beginClose(c)
}

// readDeadline sets c's deadline for what it now waits for from the client:
// the rest of a request (head: fixed from its start; body: per read, and
// within the body's rate and the whole request's time, bodyDeadline) or the
// next request (idle). Called after input was consumed and after output
// drained.
func (w *Worker) readDeadline(c *conn) {
	if c.sending || c.pending() > 0 {
		c.clock.hold(w.nowTick) // under the write timeout
		return
	}
	if c.stream != nil {
		if waiting, _ := c.stream.bodyState(); waiting {
			w.bodyDeadline(c) // a streamed body still arriving (body.go)
		} else {
			// All in, or the window is full: the handler's time is its own.
			c.clock.hold(w.nowTick)
			w.wheel.clear(c.slot)
		}
		return
	}
	switch {
	case !c.inRequest:
		w.setDeadline(c, timeoutIdle)
	case c.parser.InBody():
		if !c.clock.on {
			w.startBodyClock(c, c.reqStart)
		}
		w.bodyDeadline(c)
	default: // fixed from the request's start: dribbling bytes does not extend it
		d := c.reqStart + w.ticks[timeoutHead]
		if w.reading.whole > 0 {
			d = min(d, c.reqStart+w.reading.whole)
		}
		w.wheel.setAt(c.slot, d)
	}
}

// setDeadline puts c under timeout kind from now. Deadlines count from the
// tick read at the top of the loop turn (nowTick), not from the wheel's last
// advance, so a tick that comes late does not shorten them.
func (w *Worker) setDeadline(c *conn, kind int) {
	w.wheel.setAt(c.slot, w.nowTick+w.ticks[kind])
}

// readLimits are the bounds on a request's read besides the per-read body
// timeout, in ticks (0: none).
type readLimits struct {
	rate  int64  // Config.MinBodyRate, bytes/s (0: none)
	grace uint64 // Config.MinBodyRateGrace
	whole uint64 // Config.RequestReadTimeout
	tick  time.Duration
}

// creditTicks is the time n body bytes buy at the minimum rate.
func (l *readLimits) creditTicks(n uint64) uint64 {
	secs := float64(n) / float64(l.rate)
	return uint64(min(secs*float64(time.Second)/float64(l.tick), 1<<40))
}

// bodyClock times the read of a request's body: when it started, what has
// arrived since, and the time the server was not reading (hold), which is
// not the client's and shifts the clock's origin. Reset by serve, started
// by the first body deadline (or by streamRequest).
type bodyClock struct {
	on      bool
	holding bool
	start   uint64 // tick the body started, shifted by holds
	reqAt   uint64 // tick the request started, shifted by holds
	since   uint64 // tick the current hold began
	rx0     uint64 // conn.rx when the body started
}

// hold: from now, the server does not read c (until the next body deadline).
func (k *bodyClock) hold(now uint64) {
	if k.on && !k.holding {
		k.holding, k.since = true, now
	}
}

// startBodyClock starts timing c's body now, for the request that began
// at tick reqAt. The bytes already received (the recv that completed the
// head may hold some of the body) are not credited.
func (w *Worker) startBodyClock(c *conn, reqAt uint64) {
	c.clock = bodyClock{on: true, start: w.nowTick, reqAt: reqAt, rx0: c.rx}
}

// bodyDeadline puts c under the earliest of: the body timeout from now; the
// body's start plus the grace period plus the time its bytes buy at
// MinBodyRate; the request's start plus RequestReadTimeout. A trickle that
// keeps each read within BodyTimeout still meets the other two.
func (w *Worker) bodyDeadline(c *conn) {
	k := &c.clock
	if !k.on {
		w.startBodyClock(c, w.nowTick)
	}
	if k.holding {
		d := w.nowTick - k.since
		k.start += d
		k.reqAt += d
		k.holding = false
	}
	d := w.nowTick + w.ticks[timeoutBody]
	if l := &w.reading; l.rate > 0 {
		d = min(d, k.start+l.grace+l.creditTicks(c.rx-k.rx0))
	}
	if l := &w.reading; l.whole > 0 {
		d = min(d, k.reqAt+l.whole)
	}
	w.wheel.setAt(c.slot, d)
}

package engine

import (
	"sync"
	"time"
)

// Pool runs detached requests on at most Size goroutines; up to
// Queue more wait in FIFO order. Past that, Submit refuses (the engine
// answers 503) rather than letting memory grow without bound. Goroutines
// start on demand and stay for poolIdle after their last job: a fresh
// goroutine per request would pay for its creation and, above all, for
// growing its stack again each time (a profile showed runtime.newstack at
// 17% of the CPU). One pool serves every worker of a server.
type Pool struct {
	mu      sync.Mutex
	size    int
	qmax    int
	running int           // goroutines alive, busy or idle
	idle    []idleGo      // idle goroutines, most recently used last (warm stacks)
	queue   []Job         // FIFO; queue[0] is next
	reaper  *time.Timer   // retires goroutines idle for poolIdle; armed while idle is non-empty
	reaping bool          // reaper is armed
	idleFor time.Duration // poolIdle; tests shorten it before the first Submit
}

// idleGo is an idle goroutine: a Job sent on ch wakes it, nil retires it.
type idleGo struct {
	ch    chan Job
	since time.Time // when it went idle
}

// Job is what the pool runs: a detached stream (no closure to allocate per
// request), or a FuncJob.
type Job interface{ RunJob() }

// FuncJob runs a function as a job.
type FuncJob func()

// RunJob calls f.
func (f FuncJob) RunJob() { f() }

// poolIdle is how long an idle pool goroutine waits for work before exiting.
const poolIdle = 10 * time.Second

// BusyBody is the body of the 503 that answers a request the pool has no
// room for.
const BusyBody = "Service Unavailable: too many blocking requests\n"

// NewPool returns a pool of size goroutines and a queue of qmax.
func NewPool(size, qmax int) *Pool {
	return &Pool{size: max(size, 1), qmax: max(qmax, 0), idleFor: poolIdle}
}

// Submit runs j on a goroutine, now or after the jobs queued before it;
// false when the queue is full. It never blocks (the worker calls it).
func (p *Pool) Submit(j Job) bool {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1].ch
		p.idle[n-1] = idleGo{}
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		ch <- j // buffered (1) and empty: an idle goroutine waits on it
		return true
	}
	if p.running < p.size {
		p.running++
		p.mu.Unlock()
		go p.loop(j)
		return true
	}
	if len(p.queue) >= p.qmax {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, j)
	p.mu.Unlock()
	return true
}

// loop runs j, then queued jobs, then waits idle for more until the reaper
// retires it. The wait is a plain receive: a timer per goroutine, reset
// after every job, and a select on it cost more than the handoff itself.
func (p *Pool) loop(j Job) {
	ch := make(chan Job, 1)
	for {
		j.RunJob()
		if j = p.next(ch); j != nil {
			continue
		}
		if j = <-ch; j == nil {
			return // retired (reap)
		}
	}
}

// next pops a queued job, or parks ch on the idle list and returns nil.
func (p *Pool) next(ch chan Job) Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) > 0 {
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		return j
	}
	p.idle = append(p.idle, idleGo{ch: ch, since: time.Now()})
	if !p.reaping {
		p.reaping = true
		if p.reaper == nil {
			p.reaper = time.AfterFunc(p.idleFor, p.reap)
		} else {
			p.reaper.Reset(p.idleFor)
		}
	}
	return nil
}

// reap retires the goroutines idle for poolIdle or more (the oldest are
// first in the list: jobs take the most recent), and re-arms itself for the
// next one while any is idle. A retired goroutine is off the list, under mu,
// before it is told: no job can be handed to it any more.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].since) >= p.idleFor {
		p.idle[n].ch <- nil // buffered (1) and empty: nothing was handed to it
		n++
	}
	if n > 0 {
		p.running -= n
		rest := copy(p.idle, p.idle[n:])
		clear(p.idle[rest:])
		p.idle = p.idle[:rest]
	}
	if len(p.idle) == 0 {
		p.reaping = false
		return
	}
	p.reaper.Reset(p.idleFor - now.Sub(p.idle[0].since))
}

// Running reports the goroutines running jobs (idle ones excluded) and the
// jobs queued.
func (p *Pool) Running() (running, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running - len(p.idle), len(p.queue)
}

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
	running int        // goroutines alive, busy or idle
	idle    []chan Job // idle goroutines, most recently used last (warm stacks)
	queue   []Job      // FIFO; queue[0] is next
	kick    kick       // SubmitFromLoop's dispatcher (pool_kick.go)
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
	return &Pool{size: max(size, 1), qmax: max(qmax, 0)}
}

// Submit runs j on a goroutine, now or after the jobs queued before it;
// false when the queue is full. It never blocks (the worker calls it).
func (p *Pool) Submit(j Job) bool {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle[n-1] = nil
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

// loop runs j, then queued jobs, then waits idle for more until poolIdle
// passes without any.
func (p *Pool) loop(j Job) {
	ch := make(chan Job, 1)
	t := time.NewTimer(poolIdle)
	defer t.Stop()
	for {
		j.RunJob()
		if j = p.next(ch); j != nil {
			continue
		}
		t.Reset(poolIdle)
		select {
		case j = <-ch:
		case <-t.C:
			if p.retire(ch) {
				return
			}
			j = <-ch // submit took ch just before the timeout
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
	p.idle = append(p.idle, ch)
	return nil
}

// retire removes an idle goroutine's ch from the idle list; false if a
// submit took it meanwhile (a job is on its way).
func (p *Pool) retire(ch chan Job) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.idle {
		if c == ch {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			p.running--
			return true
		}
	}
	return false
}

// Running reports the goroutines running jobs (idle ones excluded) and the
// jobs queued.
func (p *Pool) Running() (running, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running - len(p.idle), len(p.queue)
}

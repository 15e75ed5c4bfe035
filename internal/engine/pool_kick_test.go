package engine

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SubmitFromLoop admits, queues and refuses exactly as Submit does.
func TestPoolSubmitFromLoopRunsQueuesAndRefuses(t *testing.T) {
	p := NewPool(2, 1)
	release := make(chan struct{})
	var wg sync.WaitGroup
	var ran atomic.Int32
	job := func() Job {
		wg.Add(1)
		return FuncJob(func() {
			defer wg.Done()
			<-release
			ran.Add(1)
		})
	}
	submit := func(j Job) bool {
		ok, fd := p.SubmitFromLoop(j)
		if fd >= 0 {
			Kick(fd)
		}
		return ok
	}
	require.True(t, submit(job()))
	require.True(t, submit(job()))
	require.True(t, submit(job())) // queued
	assert.False(t, submit(FuncJob(func() {})), "a full queue refuses")
	require.Eventually(t, func() bool { r, q := p.Running(); return r == 2 && q == 1 },
		10*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(3), ran.Load())
	require.Eventually(t, func() bool { r, q := p.Running(); return r == 0 && q == 0 },
		10*time.Second, time.Millisecond, "every job done")
}

// Jobs submitted from a locked thread, as a worker does, in bursts with
// the kick written at once, late (after more submits, as the worker writes
// it at the end of its turn), or from another goroutine: every job runs.
// Each burst waits for its own jobs, so a job that a lost kick left
// pending hangs its burst (nothing else would ever hand it over).
func TestPoolSubmitFromLoopNoLostKicks(t *testing.T) {
	testNoLostKicks(t, 1)
	// Again with the dispatcher slowed after each batch: submits then
	// often arrive while it is busy (awake, no kick written).
	testDispatchDelay.Store(int64(30 * time.Microsecond))
	defer testDispatchDelay.Store(0)
	testNoLostKicks(t, 2)
}

// Two pools, as two servers in one process, share the process's dispatcher.
func TestPoolSubmitFromLoopSharedDispatcher(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			testNoLostKicks(t, seed)
		}(int64(i + 2))
	}
	wg.Wait()
}

func testNoLostKicks(t *testing.T, seed int64) {
	p := NewPool(8, 1<<16)
	const bursts = 300
	runtime.LockOSThread() // the submitter is a locked thread, as a worker is
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewSource(seed))
	for b := 0; b < bursts; b++ {
		// Each burst waits for its own jobs: a job a lost kick left
		// pending is not rescued by the next burst's kick.
		var wg sync.WaitGroup
		kick := -1
		n := rng.Intn(16) + 1
		for i := 0; i < n; i++ {
			if rng.Intn(2) == 0 { // let the dispatcher be mid-batch
				for t0 := time.Now(); time.Since(t0) < time.Duration(rng.Intn(20))*time.Microsecond; {
				}
			}
			wg.Add(1)
			d := time.Duration(rng.Intn(3)) * 50 * time.Microsecond
			ok, fd := p.SubmitFromLoop(FuncJob(func() {
				defer wg.Done()
				time.Sleep(d)
			}))
			if !assert.True(t, ok) {
				return
			}
			if fd >= 0 {
				kick = fd
			}
			if kick >= 0 && rng.Intn(2) == 0 {
				Kick(kick)
				kick = -1
			}
		}
		switch {
		case kick < 0:
		case rng.Intn(2) == 0:
			Kick(kick)
		default:
			go Kick(kick)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("burst %d of %d jobs did not finish: a kick was lost", b, n)
			return
		}
		if rng.Intn(2) == 0 {
			time.Sleep(time.Duration(rng.Intn(400)) * time.Microsecond)
		}
	}
}

type signalJob chan struct{}

func (j signalJob) RunJob() { j <- struct{}{} }

// Handing a job to a warm idle goroutine through the dispatcher allocates
// nothing.
func TestPoolSubmitFromLoopAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := NewPool(1, 0)
	j := signalJob(make(chan struct{}))
	round := func() {
		ok, fd := p.SubmitFromLoop(j)
		if !ok {
			panic("refused")
		}
		if fd >= 0 {
			Kick(fd)
		}
		<-j
		for { // wait until the goroutine is idle again
			if r, _ := p.Running(); r == 0 {
				return
			}
			runtime.Gosched()
		}
	}
	round()
	assert.Zero(t, testing.AllocsPerRun(200, round))
}

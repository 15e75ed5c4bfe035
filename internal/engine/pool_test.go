package engine

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoolRunsQueuesAndRefuses(t *testing.T) {
	p := NewPool(2, 1)
	release := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var order []int
	mk := func(i int) func() {
		wg.Add(1)
		return func() {
			defer wg.Done()
			<-release
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}
	}
	require.True(t, p.Submit(FuncJob(mk(1))))
	require.True(t, p.Submit(FuncJob(mk(2))))
	require.True(t, p.Submit(FuncJob(mk(3)))) // queued
	run, queued := p.Running()
	assert.Equal(t, 2, run)
	assert.Equal(t, 1, queued)
	assert.False(t, p.Submit(FuncJob(func() {})), "a full queue refuses")
	close(release)
	wg.Wait()
	assert.ElementsMatch(t, []int{1, 2, 3}, order)
	require.Eventually(t, func() bool { r, q := p.Running(); return r == 0 && q == 0 },
		5*time.Second, time.Millisecond, "every job done")
	// Idle goroutines are reused: more jobs than size run without a queue.
	for i := 0; i < 10; i++ {
		done := make(chan struct{})
		require.True(t, p.Submit(FuncJob(func() { close(done) })))
		<-done
	}
}

// Idle goroutines retire after the idle time (the reaper), and the pool
// starts new ones for later jobs; jobs that keep coming keep theirs.
func TestPoolIdleGoroutinesRetire(t *testing.T) {
	p := NewPool(4, 4)
	p.idleFor = 5 * time.Millisecond
	alive := func() int { p.mu.Lock(); defer p.mu.Unlock(); return p.running }
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			require.True(t, p.Submit(FuncJob(func() { time.Sleep(time.Millisecond); wg.Done() })))
		}
		wg.Wait()
		require.Eventually(t, func() bool { return alive() == 0 }, 10*time.Second, time.Millisecond,
			"idle goroutines retired")
		r, q := p.Running()
		assert.Equal(t, 0, r)
		assert.Equal(t, 0, q)
	}
	// Busy enough: a goroutine used again and again before the idle time
	// is up is not retired under its job.
	var ran sync.WaitGroup
	for i := 0; i < 200; i++ {
		ran.Add(1)
		require.True(t, p.Submit(FuncJob(func() { ran.Done() })))
		time.Sleep(100 * time.Microsecond)
	}
	ran.Wait()
}

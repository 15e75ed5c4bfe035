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

package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestPoolClassesReuseAndPoison(t *testing.T) {
	p := &pool{poison: true}
	b := p.get(100)
	require.Equal(t, 0, len(b))
	require.Equal(t, 4096, cap(b))
	b = append(b, "hello"...)
	p.put(b)
	b2 := p.get(4096)
	assert.Equal(t, &b[:1][0], &b2[:1][0], "the freed buffer is reused")
	assert.Equal(t, byte(poisonByte), b2[:1][0], "a recycled buffer is poisoned")

	big := p.get(100 << 10)
	assert.Equal(t, 128<<10, cap(big))
	g := p.grow(append(b2, "xy"...), 10000)
	assert.Equal(t, "xy", string(g))
	assert.GreaterOrEqual(t, cap(g), 10002)
	p.put(big)
	p.put(g)
	p.put(b2)
	assert.Panics(t, func() { p.put(make([]byte, 0, 5000)) })
}

func TestPoolKeepsLargeBuffersWithinByteBudget(t *testing.T) {
	var p pool
	const big = 128 << 10
	bufs := make([][]byte, 0, 2*keepLargeBytes/big)
	for i := 0; i < cap(bufs); i++ {
		bufs = append(bufs, p.get(big))
	}
	require.Equal(t, 0, p.idleBig)
	for _, b := range bufs {
		p.put(b)
	}
	// Half the buffers fit the budget and stay mapped for reuse; the rest are unmapped.
	require.Equal(t, keepLargeBytes, p.idleBig)
	require.Len(t, p.free[classOf(big)], keepLargeBytes/big)
	require.Equal(t, keepLargeBytes, p.mapped)
	b := p.get(big)
	require.Equal(t, keepLargeBytes-big, p.idleBig)
	p.put(b)
}

// A size past the largest class or a failed mmap once panicked on the
// worker's goroutine (the process died). Input sizes now fail softly
// (tryGet: the caller answers 413/503); output buffers fall back to the heap.
func TestPoolNeverPanicsOnSizeOrMappingFailure(t *testing.T) {
	p := &pool{}
	require.NotPanics(t, func() {
		assert.Nil(t, p.tryGet(1<<40), "past the largest class")
	})
	p.mmap = func(int) ([]byte, error) { return nil, unix.ENOMEM }
	require.NotPanics(t, func() {
		assert.Nil(t, p.tryGet(4096), "mmap failed")
		b := p.get(16 << 10)
		require.GreaterOrEqual(t, cap(b), 16<<10)
		b = append(b, "x"...)
		g := p.grow(b, 1<<20)
		require.Equal(t, "x", string(g))
		p.put(b)
		p.put(g)
	})
	require.Zero(t, p.onHeap)
	require.Zero(t, p.inUse)
	require.Zero(t, p.mapped)
	p.mmap = nil
	b := p.tryGet(4096)
	require.NotNil(t, b)
	p.put(b)
}

// A buffer sized by a burst of input (a streamed body's stash) goes back
// unmapped when it is large, not into the idle cache where its pages would
// stay resident; slab buffers and heap fallbacks go back as with put.
func TestPoolPutColdUnmapsLargeBuffers(t *testing.T) {
	var p pool
	big := p.get(512 << 10)
	small := p.get(16 << 10)
	mapped, freeSmall := p.mapped, len(p.free[classOf(16<<10)])
	p.putCold(big)
	assert.Equal(t, mapped-512<<10, p.mapped, "unmapped")
	assert.Zero(t, p.idleBig, "not kept idle")
	p.putCold(small)
	assert.Len(t, p.free[classOf(16<<10)], freeSmall+1, "a slab buffer is kept")
	p.mmap = func(int) ([]byte, error) { return nil, unix.ENOMEM }
	h := p.get(256 << 10)
	require.Equal(t, 1, p.onHeap)
	p.putCold(h)
	assert.Zero(t, p.onHeap)
	assert.Zero(t, p.inUse)
}

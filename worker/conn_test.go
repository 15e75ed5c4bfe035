package worker

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An idle keep-alive connection holds its conn struct, a table pointer and a
// timer node; its buffers went back to the pool. Goal: < 2 KiB.
func TestIdleConnectionFootprint(t *testing.T) {
	size := unsafe.Sizeof(conn{}) + unsafe.Sizeof(&conn{}) + unsafe.Sizeof(timerNode{})
	t.Logf("per idle connection: %d bytes of Go heap", size)
	assert.Less(t, size, uintptr(1024))
}

func TestTableReusesSlotsWithNewGeneration(t *testing.T) {
	var tb table
	a := tb.alloc(10)
	b := tb.alloc(11)
	require.Equal(t, 2, tb.open)
	require.NotEqual(t, a.slot, b.slot)
	gen := a.gen
	tb.release(a)
	c := tb.alloc(12)
	assert.Equal(t, a.slot, c.slot, "slot reused")
	assert.Equal(t, (gen+1)&genMask, c.gen, "generation bumped")
	assert.Equal(t, stateOpen, c.state)
	assert.Equal(t, int32(12), c.fd)
	c.inflight = 1
	assert.Panics(t, func() { tb.release(c) }, "a slot with an op in flight is never freed")
}

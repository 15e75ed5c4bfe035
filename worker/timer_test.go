package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWheelExpiresAtDeadline(t *testing.T) {
	w := newWheel(8)
	w.set(1, 3)
	w.set(2, 5)
	w.set(3, 20) // more than two rotations away
	var got []uint32
	got = w.advance(2, got[:0])
	assert.Empty(t, got)
	got = w.advance(3, got[:0])
	assert.Equal(t, []uint32{1}, got)
	got = w.advance(19, got[:0])
	assert.Equal(t, []uint32{2}, got)
	got = w.advance(20, got[:0])
	assert.Equal(t, []uint32{3}, got)
	got = w.advance(100, got[:0])
	assert.Empty(t, got)
}

func TestWheelMoveLaterAndEarlierAndClear(t *testing.T) {
	w := newWheel(16)
	w.set(7, 4)
	w.set(7, 10) // later: lazy
	got := w.advance(5, nil)
	assert.Empty(t, got)
	w.set(7, 1) // earlier than its bucket: relinked at 6
	got = w.advance(6, got[:0])
	assert.Equal(t, []uint32{7}, got)
	w.set(8, 2)
	w.clear(8)
	got = w.advance(50, got[:0])
	assert.Empty(t, got)
	assert.Zero(t, w.deadline(8))
}

func TestWheelStalledCatchUpAndManySlots(t *testing.T) {
	w := newWheel(4)
	for s := uint32(0); s < 100; s++ {
		w.set(s, uint64(s%13)+1)
	}
	got := w.advance(1000, nil)
	require.Len(t, got, 100)
	seen := map[uint32]bool{}
	for _, s := range got {
		seen[s] = true
	}
	assert.Len(t, seen, 100)
}

func TestUserDataRoundTrip(t *testing.T) {
	u := pack(opSend, 0x1234567, 0xfedcba98) // generation wraps to 24 bits
	assert.Equal(t, opSend, u.op())
	assert.Equal(t, uint32(0x234567), u.gen())
	assert.Equal(t, uint32(0xfedcba98), u.slot())
	assert.Equal(t, "send gen=2311527 slot=4275878552", u.String())
}

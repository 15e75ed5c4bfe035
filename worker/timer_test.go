package worker

import (
	"math/rand/v2"
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

// The wheel against a naive model: random sets (near and beyond one
// rotation), clears and advances (including stalls over a rotation); the
// same slots must expire at the same advance.
func TestWheelMatchesNaiveModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := newWheel(64)
	model := map[uint32]uint64{} // slot -> deadline tick
	for step := 0; step < 20000; step++ {
		slot := uint32(rng.IntN(50))
		switch op := rng.IntN(10); {
		case op < 5:
			ticks := uint64(1 + rng.IntN(300))
			w.set(slot, ticks)
			model[slot] = w.now + ticks
		case op < 6:
			w.clear(slot)
			delete(model, slot)
		default:
			to := w.now + uint64(1+rng.IntN(20))
			if rng.IntN(50) == 0 {
				to += 200 // a stall longer than a rotation
			}
			got := w.advance(to, nil)
			var want []uint32
			for s, d := range model {
				if d <= to {
					want = append(want, s)
					delete(model, s)
				}
			}
			require.ElementsMatch(t, want, got, "step %d advance to %d", step, to)
		}
	}
}

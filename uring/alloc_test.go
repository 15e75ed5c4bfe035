//go:build !race

package uring_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/uring"
)

func TestSubmitReapAllocatesNothing(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/10000-NOPs-in-batches-of-50", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 64, Disable: c.disable})
			var bad int
			allocs := testing.AllocsPerRun(3, func() { bad += nops(r, 10000, 50) })
			require.Zero(t, bad)
			require.Zero(t, allocs, "allocations per 10,000 NOPs")
		})
		t.Run(c.name+"/"+recvMode(c)+"/5000-send-recv-pairs", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 64, Disable: c.disable})
			a, b := socketPair(t)
			g := newGroup(t, r, 8)
			out := mmapBuf(t, 64)
			copy(out, "0123456789abcdef")
			armRecv(r, b, g)
			var bad int
			pairs := func() {
				for i := 0; i < 5000; i++ {
					bad += sendRecv(r, a, b, g, out[:16])
				}
			}
			allocs := testing.AllocsPerRun(3, pairs)
			require.Zero(t, bad)
			require.Zero(t, allocs, "allocations per 5,000 send+recv pairs")
		})
	}
}

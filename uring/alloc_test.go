//go:build !race

package uring_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/uring"
)

// threadSlack bounds the mallocs that are the runtime's, not ours: a goroutine
// blocked in io_uring_enter gives its P away (sysmon retake, handoffp) and the
// runtime may start an OS thread (runtime.newm), which allocates. That is a
// fixed cost per measurement; one allocation per operation would show as
// thousands. Seen in CI: 6 over three runs of 5,000 pairs; up to 17 in
// the root package's tests under load.
const threadSlack = 64

// mallocs counts every malloc during f after one warm-up call.
func mallocs(f func()) uint64 {
	f()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

func TestSubmitReapAllocatesNothing(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/10000-NOPs-in-batches-of-50", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 64, Disable: c.disable})
			var bad int
			n := mallocs(func() { bad += nops(r, 10000, 50) })
			require.Zero(t, bad)
			require.LessOrEqual(t, n, uint64(threadSlack), "mallocs over 10,000 NOPs")
		})
		t.Run(c.name+"/"+recvMode(c)+"/5000-send-recv-pairs", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 64, Disable: c.disable})
			a, b := socketPair(t)
			g := newGroup(t, r, 8)
			out := mmapBuf(t, 64)
			copy(out, "0123456789abcdef")
			armRecv(r, b, g)
			var bad int
			n := mallocs(func() {
				for i := 0; i < 5000; i++ {
					bad += sendRecv(r, a, b, g, out[:16])
				}
			})
			require.Zero(t, bad)
			require.LessOrEqual(t, n, uint64(threadSlack), "mallocs over 5,000 send+recv pairs")
		})
	}
}

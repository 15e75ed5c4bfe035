//go:build !race

package uring_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

// nops queues, submits and reaps n NOPs in batches and returns how many
// CQEs were wrong. No testify inside: it allocates.
func nops(r *uring.Ring, n, batch int) (bad int) {
	for done := 0; done < n; done += batch {
		for i := 0; i < batch; i++ {
			s := r.GetSQE()
			s.PrepNop()
			s.SetUserData(uint64(i))
		}
		if _, err := r.SubmitAndWait(uint32(batch)); err != nil {
			return n
		}
		ready := r.CQReady()
		for i := uint32(0); i < ready; i++ {
			if r.CQEAt(i).Res != 0 {
				bad++
			}
		}
		r.CQAdvance(ready)
	}
	return bad
}

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

// sendRecv sends msg on a and reaps both the send and the armed receive on
// b, recycling the buffer and re-arming as the worker would. It returns the
// number of unexpected results.
func sendRecv(r *uring.Ring, a, b int, g uring.BufferGroup, msg []byte) (bad int) {
	s := r.GetSQE()
	s.PrepSend(int32(a), msg, unix.MSG_NOSIGNAL)
	s.SetUserData(1)
	for got := 0; got < 2; {
		if _, err := r.SubmitAndWait(1); err != nil {
			return 1
		}
		n := r.CQReady()
		for i := uint32(0); i < n; i++ {
			cqe := r.CQEAt(i)
			switch cqe.UserData {
			case provideUD:
				if cqe.Res < 0 {
					bad++
				}
			case 1:
				got++
				if cqe.Res != int32(len(msg)) {
					bad++
				}
			case recvUD:
				got++
				bid, ok := cqe.BufferID()
				if !ok || cqe.Res != int32(len(msg)) {
					bad++
				}
				if ok {
					g.Recycle(bid)
				}
				if !cqe.More() {
					armRecv(r, b, g)
				}
			}
		}
		r.CQAdvance(n)
	}
	return bad
}

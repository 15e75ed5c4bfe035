package uring_test

import (
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

// Loop bodies shared by the allocation test and the benchmarks. They use
// no testify: it allocates.

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

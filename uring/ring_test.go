package uring_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

func TestProbe(t *testing.T) {
	p, err := uring.Probe()
	if err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	t.Log(p.String())
	assert.NotEmpty(t, p.Kernel)
	assert.True(t, p.HasOp(uring.OpNop))
}

func TestNopRoundTrip(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			t.Logf("ring features: %v", r.Features())
			for i := uint64(1); i <= 3; i++ {
				s := r.GetSQE()
				s.PrepNop()
				s.SetUserData(i)
			}
			n, err := r.SubmitAndWait(3)
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			require.Equal(t, uint32(3), r.CQReady())
			for i := uint32(0); i < 3; i++ {
				cqe := r.CQEAt(i)
				assert.Equal(t, uint64(i+1), cqe.UserData)
				assert.Equal(t, int32(0), cqe.Res)
			}
			r.CQAdvance(3)
			assert.Equal(t, uint32(0), r.CQReady())
		})
	}
}

func TestSendRecvSocketPair(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, b := socketPair(t)
			out := mmapBuf(t, 64)
			in := mmapBuf(t, 64)
			copy(out, "hello, ring")

			s := r.GetSQE()
			s.PrepRecv(int32(b), in, 0)
			s.SetUserData(1)
			s = r.GetSQE()
			s.PrepSend(int32(a), out[:11], unix.MSG_NOSIGNAL)
			s.SetUserData(2)

			got := map[uint64]int32{}
			for _, cqe := range waitCQEs(t, r, 2) {
				got[cqe.UserData] = cqe.Res
			}
			assert.Equal(t, map[uint64]int32{1: 11, 2: 11}, got)
			assert.Equal(t, "hello, ring", string(in[:11]))
		})
	}
}

package uring_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

func TestGetSQEOnFullSQFlushes(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/2-entry-SQ-10-NOPs", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 2, CQEntries: 16, Disable: c.disable})
			require.Equal(t, uint32(2), r.SQEntries())
			for i := uint64(0); i < 10; i++ {
				s := r.GetSQE() // flushes on the 3rd, 5th, ... call instead of failing
				require.NotNil(t, s)
				s.PrepNop()
				s.SetUserData(i)
			}
			assert.Equal(t, uint32(2), r.SQPending(), "the last two are queued, not yet submitted")
			_, err := r.SubmitAndWait(10)
			require.NoError(t, err)
			require.Equal(t, uint32(10), r.CQReady())
			for i := uint32(0); i < 10; i++ {
				assert.Equal(t, uint64(i), r.CQEAt(i).UserData, "completion order")
			}
			r.CQAdvance(10)
		})
	}
}

func TestGetSQEReturnsClearedSlot(t *testing.T) {
	r := newTestRing(t, uring.Options{Entries: 1})
	s := r.GetSQE()
	s.PrepRecvMultishot(3, 7)
	s.SetFlags(uring.SQEIOLink)
	s.SetUserData(99)
	s.PrepNop() // prep overwrites only its own fields; keep the junk, make it a NOP
	s.Flags, s.IoPrio, s.BufGroup = 0, 0, 0
	waitCQE(t, r)
	s2 := r.GetSQE()
	assert.Same(t, s, s2, "a 1-entry ring reuses its only slot")
	assert.Equal(t, uring.SQE{}, *s2)
	s2.PrepNop()
	waitCQE(t, r)
}

func TestCQOverflowIsVisibleAndRecovered(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/4-entry-CQ-12-NOPs", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 4, CQEntries: 4, Disable: c.disable})
			require.Equal(t, uint32(4), r.CQEntries())
			for batch := 0; batch < 3; batch++ {
				for i := 0; i < 4; i++ {
					s := r.GetSQE()
					s.PrepNop()
					s.SetUserData(uint64(batch*4 + i))
				}
				_, err := r.SubmitAndWait(0)
				require.NoError(t, err)
			}
			assert.True(t, r.CQOverflowed(), "12 completions in a 4-entry CQ")
			var got []uint64
			for len(got) < 12 {
				n := r.CQReady()
				for i := uint32(0); i < n; i++ {
					got = append(got, r.CQEAt(i).UserData)
				}
				r.CQAdvance(n)
				if len(got) < 12 {
					_, err := r.SubmitAndWait(1) // GETEVENTS flushes the overflow list
					require.NoError(t, err)
				}
			}
			assert.False(t, r.CQOverflowed())
			assert.Len(t, got, 12, "IORING_FEAT_NODROP: nothing lost")
			assert.Equal(t, uint32(0), r.CQDropped())
		})
	}
}

func TestSubmitAndWaitTimeout(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 4, Disable: c.disable})
			if !r.Features().Has(uring.FeatExtArg) {
				_, err := r.SubmitAndWaitTimeout(1, time.Millisecond)
				assert.ErrorIs(t, err, uring.ErrUnsupported)
				return
			}
			n, err := r.SubmitAndWaitTimeout(1, 2*time.Millisecond)
			assert.NoError(t, err, "ETIME is not an error")
			assert.Equal(t, 0, n)
			assert.Equal(t, uint32(0), r.CQReady())

			s := r.GetSQE()
			s.PrepNop()
			n, err = r.SubmitAndWaitTimeout(1, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Equal(t, uint32(1), r.CQReady())
			r.CQAdvance(1)
		})
	}
}

// TestRingIsTiedToItsThread shows why New's doc says to LockOSThread: with
// SINGLE_ISSUER (or a registered ring fd) another thread cannot submit.
func TestRingIsTiedToItsThread(t *testing.T) {
	r := newTestRing(t, uring.Options{Entries: 4})
	need(t, r, uring.FeatSingleIssuer)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // a different OS thread from the test's
		defer runtime.UnlockOSThread()
		s := r.GetSQE()
		s.PrepNop()
		_, err := r.Submit()
		errc <- err
	}()
	err := <-errc
	require.Error(t, err)
	// EEXIST: SINGLE_ISSUER. EINVAL/EBADF: the registered ring index means
	// nothing on a thread that has no (or another) io_uring context.
	assert.Contains(t, []error{unix.EEXIST, unix.EBADF, unix.EINVAL}, err, "got %v", err)
	waitCQE(t, r) // the owner thread submits the queued NOP fine
}

func TestFeaturesString(t *testing.T) {
	assert.Equal(t, "none", uring.Features(0).String())
	assert.Equal(t, "multishot-recv,buf-ring", uring.FeatureSet(uring.FeatBufRing, uring.FeatMultishotRecv).String())
	assert.Equal(t, "ext-arg", uring.FeatExtArg.String())
	assert.True(t, uring.NewerThan510.Has(uring.FeatDeferTaskrun))
	assert.False(t, uring.NewerThan510.Has(uring.FeatProvideBuffers))
}

func TestNewRejectsCQSmallerThanSQ(t *testing.T) {
	_, err := uring.New(uring.Options{Entries: 8, CQEntries: 4})
	assert.ErrorContains(t, err, "CQEntries")
}

// Close on another thread must not unregister the index there (it may name
// another ring); it says what went wrong instead.
func TestCloseOnAnotherThreadIsReported(t *testing.T) {
	runtime.LockOSThread()
	r, err := uring.New(uring.Options{Entries: 4})
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("io_uring unavailable: %v", err)
	}
	registered := r.Features().Has(uring.FeatRegisterRingFD)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // surely not the creating thread
		defer runtime.UnlockOSThread()
		errc <- r.Close()
	}()
	err = <-errc
	runtime.UnlockOSThread()
	if registered {
		assert.ErrorContains(t, err, "LockOSThread")
	} else {
		assert.NoError(t, err)
	}
}

// On 5.10-5.18 io_uring_enter refuses to submit (EBUSY) while completions
// wait on the kernel's overflow list and the CQ is full. A CQE walk holds
// the CQ full, so a GetSQE there that has to flush a full SQ met EBUSY and
// panicked. The SQEs queued during the walk must be kept and reach the
// kernel once the walk has released the CQ. Newer kernels submit anyway;
// the test then checks the same outcome.
func TestGetSQEDuringCQEWalkAfterOverflow(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 2, CQEntries: 2, Disable: c.disable})
			require.Equal(t, uint32(2), r.CQEntries())
			var next uint64
			queueNop := func() {
				s := r.GetSQE() // must not panic, whatever the kernel answers
				s.PrepNop()
				s.SetUserData(next)
				next++
			}
			for batch := 0; batch < 2; batch++ { // 4 completions for a 2-entry CQ
				queueNop()
				queueNop()
				_, err := r.SubmitAndWait(0)
				require.NoError(t, err)
			}
			require.True(t, r.CQOverflowed())

			// The walk: the CQEs stay in place while 6 more SQEs (3 SQs'
			// worth) are queued.
			var got []uint64
			n := r.CQReady()
			require.Equal(t, uint32(2), n)
			for i := uint32(0); i < n; i++ {
				got = append(got, r.CQEAt(i).UserData)
				for j := 0; j < 3; j++ {
					queueNop()
				}
			}
			r.CQAdvance(n)

			for len(got) < int(next) {
				_, err := r.SubmitAndWait(1)
				if err == unix.EBUSY || err == unix.EAGAIN {
					require.NotZero(t, r.CQReady(), "EBUSY with nothing to reap")
				} else {
					require.NoError(t, err)
				}
				m := r.CQReady()
				for i := uint32(0); i < m; i++ {
					got = append(got, r.CQEAt(i).UserData)
				}
				r.CQAdvance(m)
			}
			want := make([]uint64, next)
			for i := range want {
				want[i] = uint64(i)
			}
			assert.ElementsMatch(t, want, got, "every NOP completes once")
			assert.Zero(t, r.SQPending())
			assert.Zero(t, r.CQDropped())
		})
	}
}

// The same path on any kernel: a flush the kernel refuses (here because
// another thread submits to a SINGLE_ISSUER ring) leaves GetSQE's SQEs
// deferred, not lost and no panic, and the owner's next SubmitAndWait
// submits them in order.
func TestGetSQEKeepsSQEsWhenTheFlushFails(t *testing.T) {
	r := newTestRing(t, uring.Options{Entries: 2, CQEntries: 8})
	need(t, r, uring.FeatSingleIssuer)
	done := make(chan uint32)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := uint64(0); i < 5; i++ { // the 3rd needs a flush, refused here
			s := r.GetSQE()
			s.PrepNop()
			s.SetUserData(i)
		}
		done <- r.SQPending()
	}()
	assert.Equal(t, uint32(5), <-done, "all five kept")
	assert.Zero(t, r.SQSpace(), "later SQEs queue behind the deferred ones")
	_, err := r.SubmitAndWait(5)
	require.NoError(t, err)
	assert.Zero(t, r.SQPending())
	require.Equal(t, uint32(5), r.CQReady())
	for i := uint32(0); i < 5; i++ {
		assert.Equal(t, uint64(i), r.CQEAt(i).UserData, "submission order kept")
	}
	r.CQAdvance(5)
}

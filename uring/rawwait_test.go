package uring_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// A ring waiting with RawWait keeps its P, so a stop-the-world must still
// reach it: the runtime's signal cuts the wait short and SubmitAndWait
// yields. Here a goroutine runs a full GC while the ring waits, then wakes
// the ring through an eventfd. If the GC could not stop the waiting thread
// it would finish only after the 10 s timeout, whose CQE would come first.
func TestRawWaitLetsGCStopTheWorld(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the spare P RawWait asks for
	for _, c := range []struct {
		name string
		opts uring.Options
	}{
		{"all-features", uring.Options{Entries: 8, RawWait: true}},
		{"5.10-path", uring.Options{Entries: 8, RawWait: true, Disable: uring.NewerThan510}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, c.opts)
			efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
			require.NoError(t, err)
			defer unix.Close(efd)
			mem := mmapBuf(t, 4096) // the eventfd read lands off the Go heap
			ts := &unix.Timespec{Sec: 10}

			s := r.GetSQE()
			s.PrepTimeout(ts, 0, 0)
			s.SetUserData(1)
			s = r.GetSQE()
			s.PrepRead(int32(efd), mem[:8], 0)
			s.SetUserData(2)

			go func() {
				runtime.GC()
				var one [8]byte
				one[0] = 1
				unix.Write(efd, one[:])
			}()
			cqe := waitCQE(t, r)
			require.Equal(t, uint64(2), cqe.UserData, "the eventfd read completes first: the GC did not wait for the ring")
			require.Equal(t, int32(8), cqe.Res)

			s = r.GetSQE()
			s.PrepCancel(1, 0)
			s.SetUserData(3)
			for got := 0; got < 2; got++ {
				cqe = waitCQE(t, r)
				require.Contains(t, []uint64{1, 3}, cqe.UserData)
			}
			runtime.KeepAlive(ts)
		})
	}
}

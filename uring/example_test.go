package uring_test

import (
	"fmt"
	"runtime"

	"github.com/uringd/uringd/uring"
)

// A minimal loop: queue, submit and wait in one syscall, walk the CQ in
// place, advance once.
func Example() {
	runtime.LockOSThread() // the ring belongs to this thread
	defer runtime.UnlockOSThread()

	r, err := uring.New(uring.Options{Entries: 8})
	if err != nil {
		fmt.Println(err) // says what to change: kernel, sysctl, seccomp, memlock
		return
	}
	defer r.Close()

	for i := uint64(1); i <= 3; i++ {
		s := r.GetSQE()
		s.PrepNop()
		s.SetUserData(i)
	}
	if _, err := r.SubmitAndWait(3); err != nil {
		fmt.Println(err)
		return
	}
	n := r.CQReady()
	for i := uint32(0); i < n; i++ {
		cqe := r.CQEAt(i)
		fmt.Println("user_data", cqe.UserData, "res", cqe.Res)
	}
	r.CQAdvance(n)
	// Output:
	// user_data 1 res 0
	// user_data 2 res 0
	// user_data 3 res 0
}

package http1

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// loopCPU runs body in b.Loop and also reports the CPU time of the
// benchmark's own thread per op ("cpu-ns/op"). The machines this runs on
// are shared: other processes taking the CPU inflate wall-clock ns/op, but
// not the thread's CPU time, so cpu-ns/op is the number to compare.
func loopCPU(b *testing.B, body func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(n), "cpu-ns/op")
	}
}

func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

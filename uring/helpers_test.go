package uring_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

// provideUD is the user_data of classic PROVIDE/REMOVE_BUFFERS CQEs in tests.
const provideUD = 0xB0F

// config is one ring configuration the tests run under.
type config struct {
	name    string
	disable uring.Features
}

// configs are the fast path (every feature this kernel has), two mixes, and
// the 5.10 path (every newer feature switched off).
var configs = []config{
	{name: "all-features", disable: 0},
	{name: "classic-provided-buffers", disable: uring.FeatureSet(uring.FeatBufRing)},
	{name: "single-shot-with-buffer-ring", disable: uring.FeatureSet(uring.FeatMultishotRecv, uring.FeatMultishotAccept)},
	{name: "linux-5.10-path", disable: uring.NewerThan510},
}

// newTestRing must be called on the goroutine that uses the ring (each
// t.Run body is a new goroutine). It locks the calling goroutine to its thread (SINGLE_ISSUER,
// DEFER_TASKRUN and the registered ring fd require it; the lock is undone at
// cleanup) and creates a ring, skipping when io_uring is unavailable.
func newTestRing(t testing.TB, opts uring.Options) *uring.Ring {
	t.Helper()
	runtime.LockOSThread()
	r, err := uring.New(opts)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		runtime.UnlockOSThread()
		t.Skipf("io_uring unavailable (old kernel, kernel.io_uring_disabled or container seccomp?): %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, r.Close())
		runtime.UnlockOSThread()
	})
	return r
}

// need skips the test when the ring lacks f.
func need(t testing.TB, r *uring.Ring, f uring.Feature) {
	t.Helper()
	if !r.Features().Has(f) {
		t.Skipf("ring lacks %v (kernel or Options.Disable; see kernel-notes.md)", f)
	}
}

// waitCQE waits for the next CQE, copies it out and consumes it.
func waitCQE(t testing.TB, r *uring.Ring) uring.CQE {
	t.Helper()
	if r.CQReady() == 0 {
		_, err := r.SubmitAndWait(1)
		require.NoError(t, err)
	}
	require.NotZero(t, r.CQReady())
	c := *r.CQEAt(0)
	r.CQAdvance(1)
	return c
}

// waitOp is waitCQE that checks and skips the CQEs of classic
// PROVIDE_BUFFERS/REMOVE_BUFFERS SQEs (user_data provideUD).
func waitOp(t testing.TB, r *uring.Ring) uring.CQE {
	t.Helper()
	for {
		c := waitCQE(t, r)
		if c.UserData != provideUD {
			return c
		}
		require.GreaterOrEqual(t, c.Res, int32(0), "provide buffers failed: %v", unix.Errno(-c.Res))
	}
}

// waitCQEs waits for n CQEs and returns copies in completion order.
func waitCQEs(t testing.TB, r *uring.Ring, n int) []uring.CQE {
	t.Helper()
	out := make([]uring.CQE, 0, n)
	for len(out) < n {
		out = append(out, waitCQE(t, r))
	}
	return out
}

// mmapBuf returns kernel-safe memory released at cleanup. Unmapping happens
// after the ring's cleanup (registered later, runs earlier), so the kernel
// is done with it.
func mmapBuf(t testing.TB, size int) []byte {
	t.Helper()
	b, err := uring.Mmap(size)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, uring.Munmap(b)) })
	return b
}

// socketPair returns a connected AF_UNIX stream pair closed at cleanup.
func socketPair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// listenTCP returns a blocking listening socket on 127.0.0.1:0 and its address.
func listenTCP(t testing.TB) (int, *unix.SockaddrInet4) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, unix.Listen(fd, 64))
	sa, err := unix.Getsockname(fd)
	require.NoError(t, err)
	return fd, sa.(*unix.SockaddrInet4)
}

// dialTCP connects a blocking client to addr (the kernel completes the
// handshake from the listen backlog, so no accept is needed first) and
// returns the client fd and its local port.
func dialTCP(t testing.TB, addr *unix.SockaddrInet4) (int, int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Connect(fd, addr))
	sa, err := unix.Getsockname(fd)
	require.NoError(t, err)
	return fd, sa.(*unix.SockaddrInet4).Port
}

// peerPort returns the remote port of a connected TCP socket.
func peerPort(t testing.TB, fd int) int {
	t.Helper()
	sa, err := unix.Getpeername(fd)
	require.NoError(t, err)
	return sa.(*unix.SockaddrInet4).Port
}

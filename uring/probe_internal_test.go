package uring

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newInternalRing is a ring on a locked thread for white-box tests.
func newInternalRing(t *testing.T, opts Options) *Ring {
	t.Helper()
	runtime.LockOSThread()
	r, err := New(opts)
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("io_uring unavailable: %v", err)
	}
	t.Cleanup(func() { r.Close(); runtime.UnlockOSThread() })
	return r
}

// Each multishot probe must agree with what the kernel does when the flag
// is used for real: on a socket (or a timer) the first CQE of an operation
// the kernel runs as multishot carries F_MORE. A kernel that ignores the
// field the flag lives in (5.10's recv and sqe->ioprio) runs it as one-shot,
// and the probe must then not report the feature.
func TestProbeTellsUnknownFlagsFromKnownOnes(t *testing.T) {
	r := newInternalRing(t, Options{Entries: 8})
	p, err := Probe()
	require.NoError(t, err)
	for _, fp := range flagProbes {
		works := multishotWorks(t, r, fp.feat)
		drainCQ(t, r) // probeSQE reads the first CQE: leave none behind
		t.Logf("%v: kernel runs it as multishot: %v", fp.feat, works)
		assert.Equal(t, works, probeFlag(r, fp), "%v: probeFlag", fp.feat)
		assert.Equal(t, works, p.Features.Has(fp.feat), "%v: Probe", fp.feat)
	}
}

// multishotWorks uses feature f's flag for real and reports whether the
// first CQE says the operation stays armed.
func multishotWorks(t *testing.T, r *Ring, f Feature) bool {
	const ud = 7
	switch f {
	case FeatMultishotAccept:
		lfd, port := listenLoopback(t)
		s := r.GetSQE()
		s.PrepAcceptMultishot(int32(lfd), unix.SOCK_CLOEXEC)
		s.UserData = ud
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		defer unix.Close(c)
		require.NoError(t, unix.Connect(c, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
		cqe := waitUD(t, r, ud)
		if cqe.Res < 0 {
			return false
		}
		unix.Close(int(cqe.Res))
		return cqe.More() // stays armed until the ring closes at cleanup
	case FeatMultishotRecv:
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		defer unix.Close(fds[0])
		defer unix.Close(fds[1])
		g, err := r.NewBufferGroup(9, 4, 64, 0xB0F)
		require.NoError(t, err)
		defer g.Close()
		s := r.GetSQE()
		s.PrepRecvMultishot(int32(fds[1]), g.Group())
		s.UserData = ud
		_, err = unix.Write(fds[0], []byte("x"))
		require.NoError(t, err)
		cqe := waitUD(t, r, ud)
		if !cqe.More() {
			return false
		}
		require.NoError(t, unix.Shutdown(fds[0], unix.SHUT_WR))
		for cqe.More() { // EOF ends it before the group goes away
			cqe = waitUD(t, r, ud)
		}
		return true
	case FeatMultishotTimeout:
		ts := &unix.Timespec{Nsec: 1e6}
		s := r.GetSQE()
		s.PrepTimeout(ts, 2, TimeoutMultishot)
		s.UserData = ud
		cqe := waitUD(t, r, ud)
		more := cqe.Res == -int32(unix.ETIME) && cqe.More()
		for cqe.More() {
			cqe = waitUD(t, r, ud)
		}
		runtime.KeepAlive(ts)
		return more
	}
	t.Fatalf("no real-use check for %v", f)
	return false
}

// waitUD waits for the next CQE with user_data ud, dropping others (the
// buffer group's PROVIDE_BUFFERS completions).
func waitUD(t *testing.T, r *Ring, ud uint64) CQE {
	for {
		if r.CQReady() == 0 {
			_, err := r.SubmitAndWait(1)
			require.NoError(t, err)
		}
		cqe := *r.CQEAt(0)
		r.CQAdvance(1)
		if cqe.UserData == ud {
			return cqe
		}
	}
}

// drainCQ submits what is queued and drops every CQE ready.
func drainCQ(t *testing.T, r *Ring) {
	_, err := r.SubmitAndWait(0)
	require.NoError(t, err)
	r.CQAdvance(r.CQReady())
}

// listenLoopback returns a blocking listener on 127.0.0.1 and its port.
func listenLoopback(t *testing.T) (int, int) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, unix.Listen(fd, 8))
	sa, err := unix.Getsockname(fd)
	require.NoError(t, err)
	return fd, sa.(*unix.SockaddrInet4).Port
}

// New drops an optional setup flag the kernel refuses and keeps going.
func TestNewDropsRefusedSetupFlags(t *testing.T) {
	saved := optionalSetup
	defer func() { optionalSetup = saved }()
	optionalSetup[0].flag = 1 << 30 // no kernel knows this one: EINVAL
	r := newInternalRing(t, Options{Entries: 4})
	assert.False(t, r.Features().Has(FeatDeferTaskrun), "the refused flag is dropped")
	assert.Zero(t, r.setupFlags&(1<<30))
	p, err := Probe()
	require.NoError(t, err)
	if p.Features.Has(FeatSingleIssuer) {
		assert.True(t, r.Features().Has(FeatSingleIssuer), "older flags are kept")
	}
}

package worker

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"golang.org/x/sys/unix"
)

// The 503 of a connection over the limit is a send hard-linked to a close.
// If the SQ fills between the two SQEs, GetSQE's flush would submit the
// send alone, its link cut: the close would then run on its own and could
// beat the send. Both SQEs must go to the kernel in the same submission.
func TestRejectSendAndCloseShareASubmission(t *testing.T) {
	runtime.LockOSThread() // the ring belongs to this thread (SINGLE_ISSUER)
	defer runtime.UnlockOSThread()
	fds, _, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	w, err := New(Config{
		CPU: -1, Listener: fds[0], Handler: &detachHandler{}, Limits: http1.DefaultLimits,
		MaxConns: 1, MaxPendingOutput: 1 << 20,
		HeaderTimeout: time.Second, BodyTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second,
		Tick: 10 * time.Millisecond, RingEntries: 8, RecvBufferSize: 4096, RecvBuffers: 8,
	})
	require.NoError(t, err)
	defer w.Close()
	defer close(w.done)
	require.NoError(t, w.setup())
	defer w.teardown()

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(pair[1])
	for w.ring.SQSpace() > 1 { // one free SQE left: the pair does not fit
		sqe := w.ring.GetSQE()
		sqe.PrepNop()
		sqe.SetUserData(uint64(pack(opListenerClose, 0, 0)))
	}
	w.reject(int32(pair[0]))
	assert.Equal(t, uint32(2), w.ring.SQPending(), "the send and its linked close wait together for the next submission")

	_, err = w.ring.SubmitAndWait(2)
	require.NoError(t, err)
	require.NoError(t, unix.SetsockoptTimeval(pair[1], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10}))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(pair[1], buf)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	assert.Equal(t, string(response503), string(got), "the 503, then EOF")
}

// A refused client with no room for the 503 is closed at once: the send
// does not wait for room (it would hold the linked close, and the worker's
// exit, which waits for it, as long as the client pleases).
func TestRejectDoesNotWaitForRoom(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fds, _, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	w, err := New(Config{
		CPU: -1, Listener: fds[0], Handler: &detachHandler{}, Limits: http1.DefaultLimits,
		MaxConns: 1, MaxPendingOutput: 1 << 20,
		HeaderTimeout: time.Second, BodyTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second,
		Tick: 10 * time.Millisecond, RingEntries: 8, RecvBufferSize: 4096, RecvBuffers: 8,
	})
	require.NoError(t, err)
	defer w.Close()
	defer close(w.done)
	require.NoError(t, w.setup())
	defer w.teardown()

	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	require.NoError(t, err)
	defer unix.Close(pair[1])
	junk := make([]byte, 4096)
	for { // fill the socket: no room left for the 503
		if _, err := unix.Write(pair[0], junk); err != nil {
			require.ErrorIs(t, err, unix.EAGAIN)
			break
		}
	}
	w.reject(int32(pair[0]))
	deadline := time.Now().Add(10 * time.Second)
	for w.slotless > 0 && time.Now().Before(deadline) {
		_, err := w.ring.SubmitAndWait(1)
		require.NoError(t, err)
		n := w.ring.CQReady()
		for i := uint32(0); i < n; i++ {
			if cqe := w.ring.CQEAt(i); userData(cqe.UserData).op() == opReject {
				w.onReject(userData(cqe.UserData), cqe.Res)
			}
		}
		w.ring.CQAdvance(n)
	}
	require.Zero(t, w.slotless, "the refused connection's send and close completed")
	_, err = unix.FcntlInt(uintptr(pair[0]), unix.F_GETFD, 0)
	assert.ErrorIs(t, err, unix.EBADF, "the refused socket is closed")
}

// A connection refused just before the worker exits is closed before Run
// returns: the loop waits for the 503 send's and the close's CQEs.
func TestRejectCompletesBeforeExit(t *testing.T) {
	for _, multishot := range []bool{true, false} {
		t.Run(map[bool]string{true: "fast_path", false: "5.10_path"}[multishot], func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			fds, _, err := Listen("127.0.0.1:0", 1, 16)
			require.NoError(t, err)
			w, err := New(Config{
				CPU: -1, Listener: fds[0], Handler: &detachHandler{}, Limits: http1.DefaultLimits,
				MaxConns: 1, MaxPendingOutput: 1 << 20, DisableMultishot: !multishot, DisableBufRing: !multishot,
				HeaderTimeout: time.Second, BodyTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second,
				Tick: 10 * time.Millisecond, RingEntries: 8, RecvBufferSize: 4096, RecvBuffers: 8,
			})
			require.NoError(t, err)
			defer w.Close()
			defer close(w.done)
			require.NoError(t, w.setup())
			var peers []int
			var refused []int
			for i := 0; i < 16; i++ {
				pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
				require.NoError(t, err)
				peers = append(peers, pair[1])
				refused = append(refused, pair[0])
				w.reject(int32(pair[0]))
			}
			w.Shutdown(false) // the loop's first wakeup starts the exit
			require.NoError(t, w.loop())
			w.teardown()
			for i, fd := range refused {
				_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
				assert.ErrorIs(t, err, unix.EBADF, "refused socket %d still open after the worker exited", i)
				if err == nil {
					unix.Close(fd)
				}
				unix.Close(peers[i])
			}
		})
	}
}

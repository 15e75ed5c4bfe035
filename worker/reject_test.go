package worker

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// The 503 of a connection over the limit is a send hard-linked to a close.
// If the SQ fills between the two SQEs, GetSQE's flush would submit the
// send alone, its link cut: the close would then run on its own and could
// beat the send. Both SQEs must go to the kernel in the same submission.
func TestRejectSendAndCloseShareASubmission(t *testing.T) {
	runtime.LockOSThread() // the ring belongs to this thread (SINGLE_ISSUER)
	defer runtime.UnlockOSThread()
	w := newRejectWorker(t, true)
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
	w := newRejectWorker(t, true)
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
			w := newRejectWorker(t, multishot)
			var peers []int
			var refused []int
			var inodes []uint64
			for i := 0; i < 16; i++ {
				pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
				require.NoError(t, err)
				var st unix.Stat_t
				require.NoError(t, unix.Fstat(pair[0], &st))
				peers = append(peers, pair[1])
				refused = append(refused, pair[0])
				inodes = append(inodes, st.Ino)
				w.reject(int32(pair[0]))
			}
			w.Shutdown(false) // the loop's first wakeup starts the exit
			require.NoError(t, w.loop())
			w.teardown()
			for i, fd := range refused {
				// Without DEFER_TASKRUN (5.10) the closes of the first
				// rejects run during reject's own Submit, and the next
				// socketpairs reuse their numbers: a number may now name
				// a later peer, so the socket is told by its inode (seen
				// on 5.10: "refused socket 1 still open" was peer 3).
				if sameSocket(fd, inodes[i]) {
					assert.Fail(t, "refused socket still open after the worker exited", "socket %d", i)
					unix.Close(fd) // the read below then ends at once
				}
				require.NoError(t, unix.SetsockoptTimeval(peers[i], unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10}))
				got, err := readToEOF(peers[i])
				assert.NoError(t, err, "refused client %d gets EOF", i)
				if len(got) > 0 { // a bare close (no room for the pair in the SQ) sends nothing
					assert.Equal(t, string(response503), string(got), "refused client %d", i)
				}
			}
			for _, fd := range peers {
				unix.Close(fd)
			}
		})
	}
}

// sameSocket reports whether fd is open and names the socket with inode ino.
func sameSocket(fd int, ino uint64) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Ino == ino
}

// readToEOF reads fd until EOF; an error (the receive timeout) means the
// other end is still open.
func readToEOF(fd int) ([]byte, error) {
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return got, err
		}
		if n == 0 {
			return got, nil
		}
		got = append(got, buf[:n]...)
	}
}

// newRejectWorker sets up, on the calling (locked) thread, a worker with a
// tiny ring (8 SQEs) that refuses every connection past the first, so that
// the SQ fills between rejects. The caller tears it down (teardown) while
// still on that thread; the ring and done channel are closed at cleanup.
func newRejectWorker(t *testing.T, multishot bool) *Worker {
	t.Helper()
	fds, _, err := engine.Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	w, err := New(Config{
		Config: engine.Config{
			Handler: &detachHandler{}, Limits: http1.DefaultLimits, MaxConns: 1, MaxPendingOutput: 1 << 20,
			HeaderTimeout: time.Second, BodyTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second,
		},
		CPU: -1, Listener: fds[0], DisableMultishot: !multishot, DisableBufRing: !multishot,
		Tick: 10 * time.Millisecond, RingEntries: 8, RecvBufferSize: 4096, RecvBuffers: 8,
	})
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	t.Cleanup(func() { close(w.done) })
	require.NoError(t, w.setup())
	return w
}

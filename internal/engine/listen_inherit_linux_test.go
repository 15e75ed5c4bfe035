package engine

import (
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fdFile wraps fd, which it then owns (closed at cleanup).
func fdFile(t *testing.T, fd int) *os.File {
	f := os.NewFile(uintptr(fd), "test-listener-"+strconv.Itoa(fd))
	t.Cleanup(func() { f.Close() })
	return f
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// acceptOne accepts within a generous timeout on a blocking listener fd.
func acceptOne(t *testing.T, fd int) int {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 10_000)
	require.NoError(t, err)
	require.Equal(t, 1, n, "nothing to accept")
	nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	return nfd
}

// The property the binary upgrade rests on: a connection waiting in the
// accept queue survives the close of one descriptor of its listener while
// another (the new process's dup) is open, and is accepted there. The
// control shows what would lose it: shutdown(2) of the listener, which
// acts on the socket, not the descriptor, resets what is queued.
func TestInheritedDupKeepsAcceptQueueAcrossClose(t *testing.T) {
	fds, addr, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	c, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("queued"))
	require.NoError(t, err)

	old := os.NewFile(uintptr(fds[0]), "old")
	dups, bound, err := Inherit([]*os.File{old}, 1, 16)
	require.NoError(t, err)
	defer closeAll(dups)
	assert.Equal(t, addr.Port, bound.Port)
	require.NoError(t, old.Close()) // the "old process" lets go

	nfd := acceptOne(t, dups[0])
	defer unix.Close(nfd)
	buf := make([]byte, 16)
	n, err := unix.Read(nfd, buf)
	require.NoError(t, err)
	assert.Equal(t, "queued", string(buf[:n]))

	// Control: shutdown(SHUT_RD) of the shared socket resets the queue.
	c2, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer c2.Close()
	time.Sleep(10 * time.Millisecond) // handshake done: it is queued
	require.NoError(t, unix.Shutdown(dups[0], unix.SHUT_RD))
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c2.Read(buf)
	require.Error(t, err, "a queued connection must be reset by shutdown(2) of its listener")
}

func TestInheritAddsReusePortSiblings(t *testing.T) {
	fds, addr, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	got, bound, err := Inherit([]*os.File{fdFile(t, fds[0])}, 3, 16)
	require.NoError(t, err)
	defer closeAll(got)
	require.Len(t, got, 3)
	assert.Equal(t, addr.String(), bound.String())
	for _, fd := range got {
		sa, err := unix.Getsockname(fd)
		require.NoError(t, err)
		assert.Equal(t, addr.Port, sa.(*unix.SockaddrInet4).Port)
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		require.NoError(t, err)
		assert.NotZero(t, fl&unix.FD_CLOEXEC)
	}
	// Every one of the group accepts: dial until each saw a connection.
	seen := map[int]bool{}
	for try := 0; try < 2000 && len(seen) < len(got); try++ {
		c, err := net.Dial("tcp", bound.String())
		require.NoError(t, err)
		pfd := make([]unix.PollFd, len(got))
		for i, fd := range got {
			pfd[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		}
		_, err = unix.Poll(pfd, 10_000)
		require.NoError(t, err)
		for i, p := range pfd {
			if p.Revents&unix.POLLIN != 0 {
				nfd, _, err := unix.Accept4(got[i], unix.SOCK_CLOEXEC)
				require.NoError(t, err)
				unix.Close(nfd)
				seen[i] = true
			}
		}
		c.Close()
	}
	assert.Len(t, seen, len(got), "the siblings joined the inherited socket's SO_REUSEPORT group")
}

func TestInheritRefusesWhatItCannotServe(t *testing.T) {
	// net.Listen does not set SO_REUSEPORT: no sibling can join it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	require.NoError(t, err)
	defer f.Close()
	_, _, err = Inherit([]*os.File{f}, 2, 16)
	require.ErrorContains(t, err, "SO_REUSEPORT")
	one, _, err := Inherit([]*os.File{f}, 1, 16) // but one worker serves it
	require.NoError(t, err)
	closeAll(one)

	_, _, err = Inherit([]*os.File{f, f}, 1, 16)
	require.ErrorContains(t, err, "2 listening sockets inherited for 1 workers")

	a, _, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	b, _, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	_, _, err = Inherit([]*os.File{fdFile(t, a[0]), fdFile(t, b[0])}, 2, 16)
	require.ErrorContains(t, err, "a server serves one address")

	// A connected socket, and something that is no socket at all.
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	cf, err := c.(*net.TCPConn).File()
	require.NoError(t, err)
	defer cf.Close()
	_, _, err = Inherit([]*os.File{cf}, 1, 16)
	require.ErrorContains(t, err, "not a listening socket")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	_, _, err = Inherit([]*os.File{r}, 1, 16)
	require.ErrorContains(t, err, "not a socket")

	u, err := net.Listen("unix", t.TempDir()+"/s")
	require.NoError(t, err)
	defer u.Close()
	uf, err := u.(*net.UnixListener).File()
	require.NoError(t, err)
	defer uf.Close()
	_, _, err = Inherit([]*os.File{uf}, 1, 16)
	require.ErrorContains(t, err, "uringd serves TCP")
}

func TestInheritDualStackSibling(t *testing.T) {
	fds, addr, err := Listen(":0", 1, 16)
	if err != nil {
		t.Skipf("no dual-stack listener here: %v", err)
	}
	got, bound, err := Inherit([]*os.File{fdFile(t, fds[0])}, 2, 16)
	require.NoError(t, err)
	defer closeAll(got)
	assert.Equal(t, addr.Port, bound.Port)
	v, err := unix.GetsockoptInt(got[1], unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
	if err == nil { // an IPv6 kernel: the sibling is dual-stack like the original
		assert.Zero(t, v)
	}
}

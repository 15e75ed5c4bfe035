package uring_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

// parts are written with one sendmsg/writev; each lives in mmap'd memory.
var parts = []string{"GET ", "/index.html", " HTTP/1.1\r\n", "Host: x\r\n\r\n"}

// iovecs copies parts into mmap'd memory and returns iovecs naming them.
// The iovec array is on the Go heap (never moved) and the caller keeps it
// alive until the CQE is reaped.
func iovecs(t *testing.T) ([]unix.Iovec, string) {
	mem := mmapBuf(t, 256)
	iov := make([]unix.Iovec, len(parts))
	off, all := 0, ""
	for i, p := range parts {
		n := copy(mem[off:], p)
		iov[i].Base = &mem[off]
		iov[i].SetLen(n)
		off += n
		all += p
	}
	return iov, all
}

// readAll reads exactly n bytes from fd.
func readAll(t *testing.T, fd int, n int) string {
	buf := make([]byte, n)
	got := 0
	for got < n {
		m, err := unix.Read(fd, buf[got:])
		require.NoError(t, err)
		require.NotZero(t, m, "unexpected EOF")
		got += m
	}
	return string(buf)
}

func TestSendmsgSeveralBuffers(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, b := socketPair(t)
			iov, want := iovecs(t)
			msg := new(unix.Msghdr) // heap: must outlive the SQE
			msg.Iov = &iov[0]
			msg.SetIovlen(len(iov))
			s := r.GetSQE()
			s.PrepSendmsg(int32(a), msg, unix.MSG_NOSIGNAL)
			s.SetUserData(3)
			cqe := waitCQE(t, r)
			runtime.KeepAlive(msg)
			runtime.KeepAlive(iov)
			assert.Equal(t, int32(len(want)), cqe.Res, "sendmsg: %v", unix.Errno(-cqe.Res))
			assert.Equal(t, want, readAll(t, b, len(want)))
		})
	}
}

func TestWritevSeveralBuffers(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/socket", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, b := socketPair(t)
			iov, want := iovecs(t)
			s := r.GetSQE()
			s.PrepWritev(int32(a), iov, ^uint64(0))
			s.SetUserData(4)
			cqe := waitCQE(t, r)
			runtime.KeepAlive(iov)
			assert.Equal(t, int32(len(want)), cqe.Res, "writev: %v", unix.Errno(-cqe.Res))
			assert.Equal(t, want, readAll(t, b, len(want)))
		})
		t.Run(c.name+"/file-at-offset", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			f, err := os.Create(filepath.Join(t.TempDir(), "writev"))
			require.NoError(t, err)
			defer f.Close()
			iov, want := iovecs(t)
			s := r.GetSQE()
			s.PrepWritev(int32(f.Fd()), iov, 3)
			cqe := waitCQE(t, r)
			runtime.KeepAlive(iov)
			require.Equal(t, int32(len(want)), cqe.Res, "writev: %v", unix.Errno(-cqe.Res))
			got, err := os.ReadFile(f.Name())
			require.NoError(t, err)
			assert.Equal(t, "\x00\x00\x00"+want, string(got))
		})
	}
}

func TestReadFile(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			path := filepath.Join(t.TempDir(), "data")
			require.NoError(t, os.WriteFile(path, []byte("0123456789abcdef"), 0o600))
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			buf := mmapBuf(t, 64)

			s := r.GetSQE()
			s.PrepRead(int32(f.Fd()), buf[:8], 0)
			s.SetUserData(1)
			s = r.GetSQE()
			s.PrepRead(int32(f.Fd()), buf[32:64], 10)
			s.SetUserData(2)
			got := map[uint64]int32{}
			for _, cqe := range waitCQEs(t, r, 2) {
				got[cqe.UserData] = cqe.Res
			}
			assert.Equal(t, map[uint64]int32{1: 8, 2: 6}, got)
			assert.Equal(t, "01234567", string(buf[:8]))
			assert.Equal(t, "abcdef", string(buf[32:38]))
		})
	}
}

func TestCloseAndShutdown(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/close", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, _ := socketPair(t)
			fd, err := unix.Dup(a)
			require.NoError(t, err)
			s := r.GetSQE()
			s.PrepClose(int32(fd))
			assert.Equal(t, int32(0), waitCQE(t, r).Res)
			_, err = unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			assert.ErrorIs(t, err, unix.EBADF)
		})
		t.Run(c.name+"/shutdown-write", func(t *testing.T) {
			if p, err := uring.Probe(); err == nil && !p.HasOp(uring.OpShutdown) {
				t.Skip("IORING_OP_SHUTDOWN needs Linux 5.11+")
			}
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, b := socketPair(t)
			s := r.GetSQE()
			s.PrepShutdown(int32(a), unix.SHUT_WR)
			assert.Equal(t, int32(0), waitCQE(t, r).Res)
			n, err := unix.Read(b, make([]byte, 4))
			assert.NoError(t, err)
			assert.Equal(t, 0, n, "peer sees EOF after shutdown(SHUT_WR)")
		})
	}
}

func TestCancel(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/pending-recv", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			_, b := socketPair(t)
			in := mmapBuf(t, 16)
			s := r.GetSQE()
			s.PrepRecv(int32(b), in, 0)
			s.SetUserData(10)
			_, err := r.Submit()
			require.NoError(t, err)
			s = r.GetSQE()
			s.PrepCancel(10, 0)
			s.SetUserData(11)
			got := map[uint64]int32{}
			for _, cqe := range waitCQEs(t, r, 2) {
				got[cqe.UserData] = cqe.Res
			}
			assert.Equal(t, map[uint64]int32{10: -int32(unix.ECANCELED), 11: 0}, got)
		})
		t.Run(c.name+"/unknown-user-data", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			s := r.GetSQE()
			s.PrepCancel(12345, 0)
			assert.Equal(t, -int32(unix.ENOENT), waitCQE(t, r).Res)
		})
	}
}

func TestTimeout(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/fires-with-ETIME", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			ts := &unix.Timespec{Nsec: 1_000_000} // heap: outlives the SQE
			s := r.GetSQE()
			s.PrepTimeout(ts, 0, 0)
			s.SetUserData(20)
			cqe := waitCQE(t, r)
			runtime.KeepAlive(ts)
			assert.Equal(t, uint64(20), cqe.UserData)
			assert.Equal(t, -int32(unix.ETIME), cqe.Res)
		})
		t.Run(c.name+"/completes-after-count-CQEs", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			ts := &unix.Timespec{Sec: 60}
			s := r.GetSQE()
			s.PrepTimeout(ts, 1, 0)
			s.SetUserData(21)
			s = r.GetSQE()
			s.PrepNop()
			s.SetUserData(22)
			got := map[uint64]int32{}
			for _, cqe := range waitCQEs(t, r, 2) {
				got[cqe.UserData] = cqe.Res
			}
			runtime.KeepAlive(ts)
			assert.Equal(t, map[uint64]int32{21: 0, 22: 0}, got)
		})
		t.Run(c.name+"/multishot-fires-repeatedly", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			need(t, r, uring.FeatMultishotTimeout)
			ts := &unix.Timespec{Nsec: 1_000_000}
			s := r.GetSQE()
			s.PrepTimeoutMultishot(ts)
			s.SetUserData(23)
			for i := 0; i < 3; i++ {
				cqe := waitCQE(t, r)
				assert.Equal(t, -int32(unix.ETIME), cqe.Res)
				assert.True(t, cqe.More(), "multishot timeout stays armed")
			}
			s = r.GetSQE()
			s.PrepCancel(23, 0)
			s.SetUserData(24)
			for {
				cqe := waitCQE(t, r)
				if cqe.UserData == 23 && cqe.More() {
					continue // fired again before the cancel landed
				}
				if cqe.UserData == 23 {
					assert.Equal(t, -int32(unix.ECANCELED), cqe.Res)
					continue
				}
				require.Equal(t, uint64(24), cqe.UserData)
				if cqe.Res == -int32(unix.ENOENT) {
					// The cancel ran while the kernel was re-arming the
					// timeout after an expiry and found nothing: the same
					// miss the worker handles by cancelling again.
					s = r.GetSQE()
					s.PrepCancel(23, 0)
					s.SetUserData(24)
					continue
				}
				assert.Equal(t, int32(0), cqe.Res)
				break
			}
			runtime.KeepAlive(ts)
		})
	}
}

func TestProvideBuffersPrep(t *testing.T) {
	r := newTestRing(t, uring.Options{Entries: 8})
	need(t, r, uring.FeatProvideBuffers)
	mem := mmapBuf(t, 4*32)
	s := r.GetSQE()
	s.PrepProvideBuffers(unsafe.Pointer(&mem[0]), 32, 4, 9, 100)
	assert.GreaterOrEqual(t, waitCQE(t, r).Res, int32(0))
	s = r.GetSQE()
	s.PrepRemoveBuffers(4, 9)
	assert.Equal(t, int32(4), waitCQE(t, r).Res, "removed the 4 buffers provided")
}

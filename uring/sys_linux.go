package uring

import (
	"syscall"
	"unsafe"

	iouring_syscall "github.com/iceber/iouring-go/syscall"
	"golang.org/x/sys/unix"
)

// setup calls io_uring_setup(2) through iceber/iouring-go. p is read and
// written by the kernel during the call only.
func setup(entries uint32, p *params) (int, error) {
	fd, err := iouring_syscall.IOURingSetup(uint(entries), p)
	if err != nil {
		return -1, unwrapErrno(err)
	}
	return fd, nil
}

// register calls io_uring_register(2) through iceber/iouring-go (which
// retries EINTR). arg is read or written by the kernel during the call only.
func register(fd int, op uint8, arg unsafe.Pointer, nr uint32) error {
	return unwrapErrno(iouring_syscall.IOURingRegister(fd, op, arg, nr))
}

// enter calls io_uring_enter(2) once. It is ours rather than
// iouring_syscall.IOURingEnter because that one wraps every errno in an
// *os.SyscallError (an allocation on EINTR/ETIME, which are routine here) and
// cannot pass the sixth argument (argsz) that IORING_ENTER_EXT_ARG needs.
//
// syscall.Syscall6, not RawSyscall: a wait can block for long, and Syscall
// tells the Go scheduler so it can run other goroutines on another thread.
func enter(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSz uintptr) (int, syscall.Errno) {
	n, _, errno := syscall.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags), uintptr(arg), argSz)
	return int(n), errno
}

// enterRaw is enter through syscall.RawSyscall6: the Go scheduler is not
// told, so the goroutine keeps its P while blocked (Options.RawWait).
func enterRaw(fd int, toSubmit, minComplete, flags uint32) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags), 0, 0)
	return int(n), errno
}

// unwrapErrno turns iceber's *os.SyscallError into the bare syscall.Errno so
// callers can compare and errors.Is works either way.
func unwrapErrno(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(interface{ Unwrap() error }); ok {
		if errno, ok := se.Unwrap().(syscall.Errno); ok {
			return errno
		}
	}
	return err
}

// mmapRing maps one of the ring regions of fd at the magic offset off.
func mmapRing(fd int, off uint64, size int) ([]byte, error) {
	return mmapBytes(fd, off, size, unix.MAP_SHARED|unix.MAP_POPULATE)
}

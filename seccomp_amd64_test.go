//go:build linux

package uringd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// denyIOUringSetup installs, on every thread (TSYNC), a seccomp filter
// that answers io_uring_setup with EPERM and allows everything else.
func denyIOUringSetup() error {
	const (
		ldAbsW       = 0x20 // BPF_LD | BPF_W | BPF_ABS
		jeqK         = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
		retK         = 0x06 // BPF_RET | BPF_K
		retAllow     = 0x7fff0000
		retErrno     = 0x00050000
		archX86_64   = 0xc000003e
		setModeFiltr = 1 // SECCOMP_SET_MODE_FILTER
		flagTSync    = 1 // SECCOMP_FILTER_FLAG_TSYNC
	)
	filter := []unix.SockFilter{
		{Code: ldAbsW, K: 4}, // seccomp_data.arch
		{Code: jeqK, Jt: 1, Jf: 0, K: archX86_64},
		{Code: retK, K: retAllow}, // another ABI: leave it alone
		{Code: ldAbsW, K: 0},      // seccomp_data.nr
		{Code: jeqK, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: retK, K: retErrno | uint32(unix.EPERM)},
		{Code: retK, K: retAllow},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, setModeFiltr, flagTSync, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		return e
	}
	return nil
}

package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// When io_uring cannot be used (here: a seccomp filter makes io_uring_setup
// fail with EPERM, as Docker's default profile does), uringd says why and
// what to do, and exits 1. The server runs in a child process (this test
// binary re-executed) because the filter cannot be removed.
func TestNoIOUringClearMessageAndExitOne(t *testing.T) {
	if os.Getenv("URINGD_NOURING_CHILD") != "" {
		if err := forbidIOUringSetup(); err != nil {
			os.Stderr.WriteString("seccomp: " + err.Error() + "\n")
			os.Exit(3)
		}
		os.Exit(run([]string{"-addr", "127.0.0.1:0", "-workers", "1"}, os.Stderr))
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the seccomp filter below uses the x86-64 syscall number")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoIOUringClearMessageAndExitOne$")
	cmd.Env = append(os.Environ(), "URINGD_NOURING_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(out))
	require.Equal(t, 1, ee.ExitCode(), string(out))
	msg := string(out)
	assert.Contains(t, msg, "uringd: cannot start")
	assert.Contains(t, msg, "io_uring_setup")
	assert.Contains(t, msg, "operation not permitted")
	assert.True(t, strings.Contains(msg, "seccomp") || strings.Contains(msg, "io_uring_disabled"), msg)
}

// forbidIOUringSetup installs, on every thread, a seccomp filter that makes
// io_uring_setup (x86-64 syscall 425) fail with EPERM.
func forbidIOUringSetup() error {
	const (
		ldAbsW   = 0x20 // BPF_LD|BPF_W|BPF_ABS
		jeqK     = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
		retK     = 0x06 // BPF_RET|BPF_K
		retAllow = 0x7fff0000
		retErrno = 0x00050000
	)
	filter := []unix.SockFilter{
		{Code: ldAbsW, K: 0}, // seccomp_data.nr
		{Code: jeqK, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: retK, K: retErrno | uint32(unix.EPERM)},
		{Code: retK, K: retAllow},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, 1 /* SET_MODE_FILTER */, 1 /* FLAG_TSYNC */, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return errno
	}
	return nil
}

package uring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ErrUnsupported is returned (wrapped) when an operation needs a feature this
// ring does not have or was told not to use (Options.Disable).
var ErrUnsupported = errors.ErrUnsupported

// SetupError explains why io_uring could not be used, with what to change.
// It unwraps to the errno, so errors.Is(err, unix.EPERM) works.
type SetupError struct {
	Op     string        // the failing call, e.g. "io_uring_setup"
	Errno  syscall.Errno // what the kernel said
	Kernel string        // uname release
	Advice string        // what the operator can do about it
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("uring: %s: %v (kernel %s): %s", e.Op, e.Errno, e.Kernel, e.Advice)
}

func (e *SetupError) Unwrap() error { return e.Errno }

// newSetupError turns a failed io_uring_setup/register into an actionable
// error. Errors that are not errnos are wrapped as they are.
func newSetupError(op string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("uring: %s: %w", op, err)
	}
	kernel := kernelRelease()
	return &SetupError{Op: op, Errno: errno, Kernel: kernel, Advice: advice(errno, kernel)}
}

// advice says what to do about errno from io_uring_setup on this kernel.
func advice(errno syscall.Errno, kernel string) string {
	switch errno {
	case syscall.ENOSYS:
		return "io_uring is not in this kernel: uringd needs Linux 5.10+ built with CONFIG_IO_URING=y (see kernel-notes.md)"
	case syscall.EPERM, syscall.EACCES:
		if v := ioUringDisabledSysctl(); v != "" && v != "0" {
			return fmt.Sprintf("io_uring is disabled by the kernel.io_uring_disabled sysctl (now %s): run `sysctl -w kernel.io_uring_disabled=0` (or, for 1, add the user to kernel.io_uring_group) (see kernel-notes.md)", v)
		}
		return "io_uring is forbidden: in a container the seccomp profile blocks io_uring_setup/io_uring_enter/io_uring_register by default " +
			"(Docker: --security-opt seccomp=<profile allowing io_uring_*>; Kubernetes: securityContext.seccompProfile Localhost with those syscalls allowed); " +
			"on a host check `sysctl kernel.io_uring_disabled` (0 allows everyone) and SELinux/AppArmor (see kernel-notes.md)"
	case syscall.ENOMEM:
		if major, minor, ok := parseKernel(kernel); ok && (major < 5 || major == 5 && minor < 12) {
			return "before Linux 5.12 ring memory is charged to RLIMIT_MEMLOCK: raise it (`ulimit -l unlimited`, systemd LimitMEMLOCK=infinity, docker --ulimit memlock=-1:-1) or use fewer/smaller rings (see kernel-notes.md)"
		}
		return "the kernel is out of memory for the rings: use fewer or smaller rings (Options.Entries/CQEntries)"
	case syscall.EINVAL:
		return "the kernel refused the ring parameters (entries must be a power of two <= 32768; CQ entries <= 65536)"
	case syscall.EMFILE, syscall.ENFILE:
		return "out of file descriptors: raise `ulimit -n`"
	}
	return "unexpected error from io_uring (see kernel-notes.md)"
}

// ioUringDisabledSysctl reads kernel.io_uring_disabled (6.6+), "" if absent.
func ioUringDisabledSysctl() string {
	b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

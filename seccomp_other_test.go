//go:build !amd64

package uringd

import "errors"

// denyIOUringSetup: the filter checks the x86-64 syscall number only.
func denyIOUringSetup() error {
	return errors.New("the io_uring_setup seccomp filter is written for amd64 only")
}

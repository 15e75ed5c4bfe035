package uring

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSetupErrorsSayWhatToDo(t *testing.T) {
	err := newSetupError("io_uring_setup", syscall.ENOSYS)
	assert.True(t, errors.Is(err, syscall.ENOSYS))
	assert.Contains(t, err.Error(), "5.10+")

	err = newSetupError("io_uring_setup", syscall.EPERM)
	assert.True(t, errors.Is(err, syscall.EPERM))
	assert.Regexp(t, `seccomp|io_uring_disabled`, err.Error())

	assert.Contains(t, advice(syscall.ENOMEM, "5.10.0-21-amd64"), "RLIMIT_MEMLOCK")
	assert.Contains(t, advice(syscall.ENOMEM, "5.10.0-21-amd64"), "ulimit -l")
	assert.NotContains(t, advice(syscall.ENOMEM, "6.1.0"), "RLIMIT_MEMLOCK")
}

func TestParseKernel(t *testing.T) {
	for rel, want := range map[string][2]int{
		"6.18.44-fc-v657": {6, 18}, "5.10.0-21-amd64": {5, 10}, "6.19-rc1": {6, 19}, "5.4": {5, 4},
	} {
		major, minor, ok := parseKernel(rel)
		assert.True(t, ok, rel)
		assert.Equal(t, want, [2]int{major, minor}, rel)
	}
	_, _, ok := parseKernel("garbage")
	assert.False(t, ok)
}

package main

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Arguments after the flags are refused (they used to be ignored: `uringd
// -root /srv/www extra` or a forgotten `-` served without a word).
func TestExtraArgumentsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"serve"},
		{"-addr", "127.0.0.1:0", "/srv/www"},
		{"-addr", "127.0.0.1:0", "--", "-workers", "2"},
	} {
		code, out := runOut(t, args...)
		assert.Equal(t, 2, code, "%q: %s", args, out)
		assert.Contains(t, out, "uringd: unexpected argument", args)
		assert.Contains(t, out, "Usage of uringd", "the usage follows")
	}
}

// A configuration error names the flag the user typed, not the Go field
// behind it, and says "uringd:" once.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-max-headers", "-5"}, "-max-headers"},
		{[]string{"-max-uri", "1"}, "-max-uri"},
		{[]string{"-max-pending-output", "10"}, "-max-pending-output"},
		{[]string{"-idle-timeout", "1ns"}, "-idle-timeout"},
		{[]string{"-max-uri", "9000", "-max-header-bytes", "8192"}, "-max-uri"},
		{[]string{"-engine", "epoll"}, "-engine"},
		{[]string{"-root", "/nonexistent-uringd-root"}, "-root"},
		{[]string{"-root", ".", "-404", "no-such-404.html"}, "-404"},
		{[]string{"-listing"}, "-root"},
		{[]string{"-precompressed"}, "-root"},
	} {
		code, out := runOut(t, c.args...)
		assert.Equal(t, 2, code, "%q: %s", c.args, out)
		assert.Contains(t, out, c.want, c.args)
		assert.NotContains(t, out, "Config.", c.args)
		assert.Equal(t, 1, strings.Count(out, "uringd:"), "%q: %s", c.args, out)
	}
	code, out := runOut(t, "-addr", "127.0.0.1:http-x")
	assert.Equal(t, 1, code, out)
	assert.Equal(t, 1, strings.Count(out, "uringd:"), out)
	assert.Contains(t, out, "uringd: cannot start")
}

// More workers than CPUs work (they share the CPUs) but each is a thread
// with its own ring and buffers: uringd warns. It used to accept -workers
// 999 on two CPUs silently (1366 threads).
func TestWorkersAboveCPUsWarn(t *testing.T) {
	n := runtime.NumCPU() + 1
	s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", fmt.Sprint(n))
	s.signal(t, syscall.SIGTERM)
	assert.Equal(t, 0, s.wait(t))
	log := s.log.String()
	assert.Contains(t, log, "level=WARN")
	assert.Contains(t, log, fmt.Sprintf("workers=%d cpus=%d", n, runtime.NumCPU()), log)

	s = startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1")
	s.signal(t, syscall.SIGTERM)
	assert.Equal(t, 0, s.wait(t))
	assert.NotContains(t, s.log.String(), "level=WARN")
}

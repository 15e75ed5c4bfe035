package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/http1"
)

func TestFibonacciBodyAndNoAllocation(t *testing.T) {
	var w http1.Response
	buf := make([]byte, 0, 4096)
	w.Reset(buf, nil, nil)
	fibonacci((*uringd.Response)(&w), nil)
	out := string(w.Finish())
	assert.Contains(t, out, "\r\n\r\nFibonacci(10^6) = 1884755131 (with overflow)\n")
	allocs := testing.AllocsPerRun(5, func() {
		w.Reset(buf, nil, nil)
		fibonacci((*uringd.Response)(&w), nil)
		w.Finish()
	})
	assert.Zero(t, allocs)
}

func TestFlagErrorsExitTwoAndHelpZero(t *testing.T) {
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	assert.Equal(t, 2, run([]string{"-nope"}, devnull))
	assert.Equal(t, 2, run([]string{"-log", "loud"}, devnull))
	assert.Equal(t, 2, run([]string{"-max-headers", "-5"}, devnull))
	assert.Equal(t, 2, run([]string{"-engine", "epoll"}, devnull))
	assert.Equal(t, 2, run([]string{"-min-body-rate", "-5"}, devnull))
	assert.Equal(t, 2, run([]string{"-max-stream-body", "-1"}, devnull))
	assert.Equal(t, 2, run([]string{"-request-read-timeout", "-1s"}, devnull))
	assert.Equal(t, 0, run([]string{"-h"}, devnull))
}

// Package routes holds what every benchmarked server must answer, so the peers
// and the harness's correctness check agree on one definition.
//
// Every server serves GET / with HelloBody, GET /fibonacci with FibonacciBody
// (computed again for each request: the CPU-bound scenario depends on it) and,
// where the peer can, POST /echo with the request body.
package routes

import "strconv"

// HelloBody is the body of GET /.
const HelloBody = "Hello, World!"

// FibonacciAnswer is fibonacci(10^6) in uint32 arithmetic (with overflow). The
// harness compares against it; servers must compute it, not return it.
const FibonacciAnswer uint32 = 1884755131

// fibN is a variable, not a constant, so the compiler cannot fold the loop
// away or specialise it: every request pays for the 10^6 iterations.
// Fibonacci reads it once into a local: a loop that compares against the
// package variable reloads it from memory on every iteration, which made
// every Go peer 1.4-2x slower than cmd/uringd's loop (whose bound is a
// constant) on this scenario, a difference of loop codegen, not of servers.
var fibN = 1000000

// Fibonacci computes fibonacci(10^6) in uint32, the way cmd/uringd and the C
// reference do: a, b := 0, 1; 10^6 times a, b = b, a+b; return a.
func Fibonacci() uint32 {
	a, b, n := uint32(0), uint32(1), fibN
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}

// AppendFibonacciBody appends "Fibonacci(10^6) = N (with overflow)\n" with a
// freshly computed N.
func AppendFibonacciBody(dst []byte) []byte {
	dst = append(dst, "Fibonacci(10^6) = "...)
	dst = strconv.AppendUint(dst, uint64(Fibonacci()), 10)
	return append(dst, " (with overflow)\n"...)
}

// FibonacciBody is what GET /fibonacci must answer, for checks.
func FibonacciBody() string {
	return "Fibonacci(10^6) = " + strconv.FormatUint(uint64(FibonacciAnswer), 10) + " (with overflow)\n"
}

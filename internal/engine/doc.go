// Package engine is what uringd's two engines share, so that the root
// package talks to both the same way and a feature is wired in once: the
// handler interface they call, the configuration they take (limits,
// timeouts, budgets), the counters they report, the contract of a detached
// response (Stream, Detach) and the pool that runs detached responses, and
// the SO_REUSEPORT listeners.
//
// The io_uring engine is package worker (one event loop per CPU); the
// portable one is package netpoll (Go's net, a goroutine per connection).
// Nothing here touches io_uring.
package engine

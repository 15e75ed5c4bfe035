// Package uring is uringd's io_uring binding: ring setup with feature
// fallback, SQEs written in place, CQEs walked in place, provided-buffer
// groups, and a probe of what the kernel supports. It allocates nothing on
// the submit/reap path and knows nothing of HTTP.
//
// The words are liburing's: GetSQE, Prep*, Submit, SubmitAndWait, and a CQ
// walk (CQReady, CQEAt, CQAdvance) like io_uring_for_each_cqe +
// io_uring_cq_advance. Kernel constants keep their kernel names in Go form
// (IORING_CQE_F_MORE -> CQEFMore); see abi.go.
//
// Three rules for callers:
//
//  1. Thread: call runtime.LockOSThread before New and use the Ring only
//     from that goroutine (SINGLE_ISSUER, DEFER_TASKRUN and the registered
//     ring fd bind it to the creating thread).
//  2. Memory: anything an SQE points at (buffers, iovecs, msghdrs,
//     timespecs) must stay alive and unmoved until its last CQE: use Mmap
//     or buffer groups, or objects held for the ring's life; never a
//     goroutine-stack variable.
//  3. Fallbacks: check Ring.Features before using a newer operation
//     (multishot accept/recv/timeout, buffer rings). Options.Disable turns
//     features off so the 5.10 path can be tested anywhere; NewerThan510
//     turns off all of them. kernel-notes.md lists each feature's kernel,
//     probe and fallback.
package uring

package uring

import iouring_syscall "github.com/iceber/iouring-go/syscall"

// OpPollAdd is IORING_OP_POLL_ADD (5.1).
const OpPollAdd = iouring_syscall.IORING_OP_POLL_ADD

// PrepPollAdd prepares a one-shot poll of fd for the events in mask
// (unix.POLLIN, ...): res is the events that fired (POLLERR and POLLHUP
// always count), or -errno (-ECANCELED when cancelled). The mask goes in
// poll32_events, whose low half is the 16-bit poll_events of kernels
// before 5.9 on little-endian machines (liburing swaps halves on big-endian
// ones; uringd does not run there).
// Kernel 5.1+. liburing: io_uring_prep_poll_add.
func (s *SQE) PrepPollAdd(fd int32, mask uint32) {
	s.prepRW(OpPollAdd, fd, 0, 0, 0)
	s.OpFlags = mask
}

package uring

import (
	"math"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Prep helpers fill an SQE that GetSQE just cleared. They are pure: they
// never allocate, never submit, and only set the fields they name. Set
// UserData (and any extra IOSQE_ flags) afterwards.
//
// Memory rule for every helper that takes a buffer, iovec, msghdr or
// timespec: the kernel reads or writes it after Submit returns, while Go
// does not know. It must stay alive and unmoved until the operation's
// (last) CQE is reaped: mmap'd memory (Mmap, buffer groups) or an object the
// caller holds for its whole life — never a goroutine-stack variable (stacks
// move) and never something the GC may free (the SQE is not a GC root).

// prepRW sets the fields shared by most opcodes (liburing: io_uring_prep_rw).
func (s *SQE) prepRW(op uint8, fd int32, addr uint64, length uint32, off uint64) {
	s.Opcode = op
	s.Fd = fd
	s.Addr = addr
	s.Len = length
	s.Off = off
}

// SetUserData sets the value the kernel returns in this SQE's CQE(s).
func (s *SQE) SetUserData(u uint64) { s.UserData = u }

// SetFlags adds IOSQE_* flags (SQEIOLink, SQECQESkipSuccess, ...) to those
// the prep helper set (it never clears SQEBufferSelect).
func (s *SQE) SetFlags(f uint8) { s.Flags |= f }

// PrepNop prepares IORING_OP_NOP: a completion with res 0 and no work.
// Kernel 5.1+. liburing: io_uring_prep_nop.
func (s *SQE) PrepNop() {
	s.prepRW(OpNop, -1, 0, 0, 0)
}

// PrepAccept prepares a single-shot accept on the listening socket fd; the
// CQE's res is the new fd. flags are accept4 flags (SOCK_CLOEXEC,
// SOCK_NONBLOCK). The peer address is not requested (addr NULL). Give the
// ring a blocking listener: with O_NONBLOCK some kernels complete with
// -EAGAIN instead of waiting. Kernel 5.5+. liburing: io_uring_prep_accept.
func (s *SQE) PrepAccept(fd int32, flags uint32) {
	s.prepRW(OpAccept, fd, 0, 0, 0)
	s.OpFlags = flags
}

// PrepAcceptMultishot prepares a multishot accept: one CQE per accepted
// connection while the CQE has CQEFMore; a CQE without it ends the stream
// and the caller must re-arm. Kernel 5.19+ (FeatMultishotAccept).
// liburing: io_uring_prep_multishot_accept.
func (s *SQE) PrepAcceptMultishot(fd int32, flags uint32) {
	s.PrepAccept(fd, flags)
	s.IoPrio |= AcceptMultishot
}

// PrepRecv prepares a recv into buf (recv(2) flags in flags); res is the
// byte count, 0 at EOF. buf must follow the memory rule above.
// Kernel 5.6+. liburing: io_uring_prep_recv.
func (s *SQE) PrepRecv(fd int32, buf []byte, flags uint32) {
	s.prepRW(OpRecv, fd, addrOf(buf), uint32(len(buf)), 0)
	s.OpFlags = flags
}

// PrepRecvSelect prepares a single-shot recv whose buffer the kernel picks
// from provided-buffer group bgid (IOSQE_BUFFER_SELECT); the CQE carries
// CQEFBuffer and the buffer id, or -ENOBUFS when the group is empty. Len is
// set to MaxInt32: every kernel clamps it to the chosen buffer's size
// (5.7-5.18 only clamp, they would read 0 bytes with len 0).
// Kernel 5.7+ (classic groups), 5.19+ (buffer rings).
// liburing: io_uring_prep_recv + IOSQE_BUFFER_SELECT.
func (s *SQE) PrepRecvSelect(fd int32, bgid uint16, flags uint32) {
	s.prepRW(OpRecv, fd, 0, math.MaxInt32, 0)
	s.OpFlags = flags
	s.Flags |= SQEBufferSelect
	s.BufGroup = bgid
}

// PrepRecvMultishot arms a multishot recv on fd that takes its buffers from
// provided-buffer group bgid. The kernel posts one CQE per receive, each
// with a buffer id; a CQE without CQEFMore ends the stream (EOF, error,
// -ENOBUFS when the group ran dry, or the kernel's choice) and the caller
// must re-arm. Kernel 6.0+ (FeatMultishotRecv).
// liburing: io_uring_prep_recv_multishot.
func (s *SQE) PrepRecvMultishot(fd int32, bgid uint16) {
	s.prepRW(OpRecv, fd, 0, 0, 0)
	s.Flags |= SQEBufferSelect
	s.IoPrio |= RecvMultishot
	s.BufGroup = bgid
}

// PrepSend prepares a send of buf (send(2) flags in flags; MSG_NOSIGNAL is
// wise). res may be short: send the rest. buf must follow the memory rule.
// Kernel 5.6+. liburing: io_uring_prep_send.
func (s *SQE) PrepSend(fd int32, buf []byte, flags uint32) {
	s.prepRW(OpSend, fd, addrOf(buf), uint32(len(buf)), 0)
	s.OpFlags = flags
}

// PrepSendmsg prepares a sendmsg of msg (several buffers in one call). msg,
// its iovec array and every buffer it names must follow the memory rule.
// Kernel 5.3+. liburing: io_uring_prep_sendmsg.
func (s *SQE) PrepSendmsg(fd int32, msg *unix.Msghdr, flags uint32) {
	s.prepRW(OpSendmsg, fd, uint64(uintptr(unsafe.Pointer(msg))), 1, 0)
	s.OpFlags = flags
}

// PrepWritev prepares a writev of iov at file offset off (use ^uint64(0),
// i.e. -1, for "current position", the only choice on sockets and pipes).
// The iovec array and its buffers must follow the memory rule.
// Kernel 5.1+. liburing: io_uring_prep_writev.
func (s *SQE) PrepWritev(fd int32, iov []unix.Iovec, off uint64) {
	var addr uint64
	if len(iov) > 0 {
		addr = uint64(uintptr(unsafe.Pointer(&iov[0])))
	}
	s.prepRW(OpWritev, fd, addr, uint32(len(iov)), off)
}

// PrepRead prepares a read into buf at file offset off (^uint64(0) for the
// current position). buf must follow the memory rule.
// Kernel 5.6+. liburing: io_uring_prep_read.
func (s *SQE) PrepRead(fd int32, buf []byte, off uint64) {
	s.prepRW(OpRead, fd, addrOf(buf), uint32(len(buf)), off)
}

// PrepClose prepares a close of fd. Do not retry a close that failed with
// EINTR: the fd is gone either way. Kernel 5.6+. liburing: io_uring_prep_close.
func (s *SQE) PrepClose(fd int32) {
	s.prepRW(OpClose, fd, 0, 0, 0)
}

// PrepShutdown prepares shutdown(fd, how) (unix.SHUT_WR ...).
// Kernel 5.11+ (FeatShutdown); on 5.10 call unix.Shutdown directly. liburing: io_uring_prep_shutdown.
func (s *SQE) PrepShutdown(fd int32, how int) {
	s.prepRW(OpShutdown, fd, 0, uint32(how), 0)
}

// PrepCancel prepares a cancel of the in-flight request whose user_data is
// userData (flags: AsyncCancelAll etc., 5.19+, or 0). The cancelled request
// completes with -ECANCELED; this SQE's CQE has res 0, -ENOENT (not found)
// or -EALREADY (already running). Kernel 5.5+.
// liburing: io_uring_prep_cancel64.
func (s *SQE) PrepCancel(userData uint64, flags uint32) {
	s.prepRW(OpAsyncCancel, -1, userData, 0, 0)
	s.OpFlags = flags
}

// PrepTimeout prepares a timeout that completes with -ETIME after *ts, or
// with res 0 once count other CQEs have been posted (count 0: time only).
// flags: TimeoutAbs, TimeoutETimeSuccess... ts must follow the memory rule
// (TigerBeetle's warning: "don't move ts inside here: it's on the stack").
// Kernel 5.4+. liburing: io_uring_prep_timeout.
func (s *SQE) PrepTimeout(ts *unix.Timespec, count uint32, flags uint32) {
	s.prepRW(OpTimeout, -1, uint64(uintptr(unsafe.Pointer(ts))), 1, uint64(count))
	s.OpFlags = flags
}

// PrepTimeoutMultishot prepares a timeout that fires every *ts until
// cancelled: each CQE has res -ETIME and CQEFMore. ts must follow the memory
// rule. Kernel 6.4+ (FeatMultishotTimeout); before, re-arm a PrepTimeout.
// liburing: io_uring_prep_timeout with IORING_TIMEOUT_MULTISHOT.
func (s *SQE) PrepTimeoutMultishot(ts *unix.Timespec) {
	s.PrepTimeout(ts, 0, TimeoutMultishot)
}

// PrepProvideBuffers hands nr buffers of bufLen bytes each, contiguous from
// addr, to group bgid with ids bid, bid+1, ... (classic provided buffers).
// The memory must follow the memory rule (Mmap). Most callers use
// ProvidedBuffers instead. Kernel 5.7+. liburing: io_uring_prep_provide_buffers.
func (s *SQE) PrepProvideBuffers(addr unsafe.Pointer, bufLen int32, nr int32, bgid uint16, bid uint16) {
	s.prepRW(OpProvideBuffers, nr, uint64(uintptr(addr)), uint32(bufLen), uint64(bid))
	s.BufGroup = bgid
}

// PrepRemoveBuffers removes up to nr buffers from group bgid.
// Kernel 5.7+. liburing: io_uring_prep_remove_buffers.
func (s *SQE) PrepRemoveBuffers(nr int32, bgid uint16) {
	s.prepRW(OpRemoveBuffers, nr, 0, 0, 0)
	s.BufGroup = bgid
}

package uring

import (
	"unsafe"

	iouring_syscall "github.com/iceber/iouring-go/syscall"
)

// This file mirrors include/uapi/linux/io_uring.h. Names are derived
// mechanically from the kernel's (IORING_OP_SEND_ZC -> OpSendZC,
// IORING_CQE_F_MORE -> CQEFMore, IOSQE_BUFFER_SELECT -> SQEBufferSelect) so
// grep works across both. Values that iceber/iouring-go/syscall already has
// are taken from it; newer ones are defined here with the kernel release that
// introduced them. Everything below was checked against the linux-libc-dev
// 6.1 header (/usr/include/linux/io_uring.h) except where marked "not in the
// 6.1 header", which was checked against the kernel's own uapi header of the
// named release.

// Opcodes (enum io_uring_op), with the first kernel that has each one.
const (
	OpNop            = iouring_syscall.IORING_OP_NOP             // 5.1
	OpReadv          = iouring_syscall.IORING_OP_READV           // 5.1
	OpWritev         = iouring_syscall.IORING_OP_WRITEV          // 5.1
	OpSendmsg        = iouring_syscall.IORING_OP_SENDMSG         // 5.3
	OpRecvmsg        = iouring_syscall.IORING_OP_RECVMSG         // 5.3
	OpTimeout        = iouring_syscall.IORING_OP_TIMEOUT         // 5.4
	OpTimeoutRemove  = iouring_syscall.IORING_OP_TIMEOUT_REMOVE  // 5.5
	OpAccept         = iouring_syscall.IORING_OP_ACCEPT          // 5.5
	OpAsyncCancel    = iouring_syscall.IORING_OP_ASYNC_CANCEL    // 5.5
	OpLinkTimeout    = iouring_syscall.IORING_OP_LINK_TIMEOUT    // 5.5
	OpConnect        = iouring_syscall.IORING_OP_CONNECT         // 5.5
	OpClose          = iouring_syscall.IORING_OP_CLOSE           // 5.6
	OpRead           = iouring_syscall.IORING_OP_READ            // 5.6
	OpWrite          = iouring_syscall.IORING_OP_WRITE           // 5.6
	OpSend           = iouring_syscall.IORING_OP_SEND            // 5.6
	OpRecv           = iouring_syscall.IORING_OP_RECV            // 5.6
	OpSplice         = iouring_syscall.IORING_OP_SPLICE          // 5.7
	OpProvideBuffers = iouring_syscall.IORING_OP_PROVIDE_BUFFERS // 5.7
	OpRemoveBuffers  = iouring_syscall.IORING_OP_REMOVE_BUFFERS  // 5.7
	OpShutdown       = iouring_syscall.IORING_OP_SHUTDOWN        // 5.11
	OpMsgRing        = iouring_syscall.IORING_OP_MSG_RING        // 5.18
	OpSocket         = iouring_syscall.IORING_OP_SOCKET          // 5.19
	OpSendZC         = iouring_syscall.IORING_OP_SEND_ZC         // 6.0
	OpSendmsgZC      = iouring_syscall.IORING_OP_SENDMSG_ZC      // 6.1
)

// SQE flags (sqe->flags, IOSQE_*).
const (
	SQEFixedFile      = iouring_syscall.IOSQE_FLAGS_FIXED_FILE    // 5.1
	SQEIODrain        = iouring_syscall.IOSQE_FLAGS_IO_DRAIN      // 5.2
	SQEIOLink         = iouring_syscall.IOSQE_FLAGS_IO_LINK       // 5.3
	SQEIOHardlink     = iouring_syscall.IOSQE_FLAGS_IO_HARDLINK   // 5.5
	SQEAsync          = iouring_syscall.IOSQE_FLAGS_ASYNC         // 5.6; never on sockets (io-wq is the slow path)
	SQEBufferSelect   = iouring_syscall.IOSQE_FLAGS_BUFFER_SELECT // 5.7
	SQECQESkipSuccess = uint8(1 << 6)                             // 5.17, IOSQE_CQE_SKIP_SUCCESS
)

// Setup flags (io_uring_setup params.flags, IORING_SETUP_*).
const (
	SetupCQSize       = iouring_syscall.IORING_SETUP_CQSIZE       // 5.5
	SetupClamp        = iouring_syscall.IORING_SETUP_CLAMP        // 5.6
	SetupSubmitAll    = iouring_syscall.IORING_SETUP_SUBMIT_ALL   // 5.18
	SetupCoopTaskrun  = iouring_syscall.IORING_SETUP_COOP_TASKRUN // 5.19
	SetupTaskrunFlag  = iouring_syscall.IORING_SETUP_TASKRUN_FLAG // 5.19
	SetupSingleIssuer = uint32(1 << 12)                           // 6.0, IORING_SETUP_SINGLE_ISSUER
	SetupDeferTaskrun = uint32(1 << 13)                           // 6.1, IORING_SETUP_DEFER_TASKRUN
)

// Kernel feature bits (io_uring_params.features, IORING_FEAT_*).
const (
	FeatFlagSingleMmap = iouring_syscall.IORING_FEAT_SINGLE_MMAP // 5.4
	FeatFlagNodrop     = iouring_syscall.IORING_FEAT_NODROP      // 5.5
	FeatFlagFastPoll   = iouring_syscall.IORING_FEAT_FAST_POLL   // 5.7
	FeatFlagExtArg     = uint32(1 << 8)                          // 5.11, IORING_FEAT_EXT_ARG
	FeatFlagCQESkip    = uint32(1 << 11)                         // 5.17, IORING_FEAT_CQE_SKIP
)

// io_uring_enter flags (IORING_ENTER_*).
const (
	EnterGetEvents      = iouring_syscall.IORING_ENTER_FLAGS_GETEVENTS // 5.1
	EnterExtArg         = uint32(1 << 3)                               // 5.11, IORING_ENTER_EXT_ARG
	EnterRegisteredRing = uint32(1 << 4)                               // 5.18, IORING_ENTER_REGISTERED_RING
)

// io_uring_register opcodes (IORING_REGISTER_*).
const (
	RegisterProbe         = iouring_syscall.IORING_REGISTER_PROBE // 5.6
	RegisterRingFDs       = uint8(20)                             // 5.18, IORING_REGISTER_RING_FDS
	UnregisterRingFDs     = uint8(21)                             // 5.18, IORING_UNREGISTER_RING_FDS
	RegisterPbufRing      = uint8(22)                             // 5.19, IORING_REGISTER_PBUF_RING
	UnregisterPbufRing    = uint8(23)                             // 5.19, IORING_UNREGISTER_PBUF_RING
	ioUringOpSupported    = uint16(1)                             // IO_URING_OP_SUPPORTED
	ioUringProbeOpsLength = 256
)

// SQ ring flags (sq_ring->flags).
const (
	SQNeedWakeup = iouring_syscall.IORING_SQ_NEED_WAKEUP // 5.1
	SQCQOverflow = iouring_syscall.IORING_SQ_CQ_OVERFLOW // 5.8
	SQTaskrun    = uint32(1 << 2)                        // 5.19, IORING_SQ_TASKRUN
)

// CQE flags (cqe->flags, IORING_CQE_F_*).
const (
	CQEFBuffer       = uint32(1 << 0) // 5.7
	CQEFMore         = uint32(1 << 1) // 5.13 (poll), 5.19 (accept), 6.0 (recv)
	CQEFSockNonempty = uint32(1 << 2) // 5.19
	CQEFNotif        = uint32(1 << 3) // 6.0
	CQEBufferShift   = 16             // IORING_CQE_BUFFER_SHIFT
)

// Per-opcode flags carried in sqe->ioprio or sqe->op_flags.
const (
	AcceptMultishot   = uint16(1 << 0) // 5.19, IORING_ACCEPT_MULTISHOT (ioprio)
	RecvsendPollFirst = uint16(1 << 0) // 5.19, IORING_RECVSEND_POLL_FIRST (ioprio)
	RecvMultishot     = uint16(1 << 1) // 6.0, IORING_RECV_MULTISHOT (ioprio)

	TimeoutAbs          = iouring_syscall.IORING_TIMEOUT_ABS // 5.4
	TimeoutETimeSuccess = uint32(1 << 5)                     // 5.16, IORING_TIMEOUT_ETIME_SUCCESS
	TimeoutMultishot    = uint32(1 << 6)                     // 6.4, IORING_TIMEOUT_MULTISHOT (not in the 6.1 header)

	AsyncCancelAll = uint32(1 << 0) // 5.19, IORING_ASYNC_CANCEL_ALL
	AsyncCancelFD  = uint32(1 << 1) // 5.19, IORING_ASYNC_CANCEL_FD
	AsyncCancelAny = uint32(1 << 2) // 5.19, IORING_ASYNC_CANCEL_ANY
)

// mmap offsets for the rings.
const (
	offSQRing = iouring_syscall.IORING_OFF_SQ_RING
	offCQRing = iouring_syscall.IORING_OFF_CQ_RING
	offSQEs   = iouring_syscall.IORING_OFF_SQES
)

// SQE mirrors struct io_uring_sqe (64 bytes). It is written in place in the
// mmap'd SQE array; Prep* helpers fill it. Unions are named after their most
// common member; the comment lists the others.
type SQE struct {
	Opcode      uint8  // IORING_OP_*
	Flags       uint8  // IOSQE_*
	IoPrio      uint16 // ioprio; also accept/recv/send flags (AcceptMultishot, RecvMultishot)
	Fd          int32  // fd; nr of buffers for PROVIDE_BUFFERS
	Off         uint64 // off / addr2; timeout count; first bid for PROVIDE_BUFFERS
	Addr        uint64 // addr / splice_off_in; user_data to cancel
	Len         uint32 // buffer length or number of iovecs
	OpFlags     uint32 // rw_flags / msg_flags / timeout_flags / accept_flags / cancel_flags ...
	UserData    uint64 // returned unchanged in the CQE
	BufGroup    uint16 // buf_index / buf_group
	Personality uint16
	SpliceFdIn  int32 // splice_fd_in / file_index / addr_len
	Addr3       uint64
	pad2        uint64
}

// CQE mirrors struct io_uring_cqe (16 bytes; uringd never sets CQE32).
type CQE struct {
	UserData uint64 // the SQE's user_data
	Res      int32  // result, or -errno
	Flags    uint32 // IORING_CQE_F_*; buffer id in the upper 16 bits with CQEFBuffer
}

// params mirrors struct io_uring_params.
type params = iouring_syscall.IOURingParams

// bufRingEntry mirrors struct io_uring_buf (16 bytes). The ring's 16-bit tail
// overlays bufs[0].resv (offset 14).
type bufRingEntry struct {
	Addr uint64
	Len  uint32
	Bid  uint16
	Resv uint16
}

// bufReg mirrors struct io_uring_buf_reg, the IORING_REGISTER_PBUF_RING argument (5.19).
type bufReg struct {
	RingAddr    uint64
	RingEntries uint32
	Bgid        uint16
	Pad         uint16
	Resv        [3]uint64
}

// rsrcUpdate mirrors struct io_uring_rsrc_update, the IORING_REGISTER_RING_FDS argument (5.18).
type rsrcUpdate struct {
	Offset uint32
	Resv   uint32
	Data   uint64
}

// probeOp and probeHdr mirror struct io_uring_probe_op and struct io_uring_probe (5.6).
type probeOp struct {
	Op    uint8
	Resv  uint8
	Flags uint16
	Resv2 uint32
}

type probeHdr struct {
	LastOp uint8
	OpsLen uint8
	Resv   uint16
	Resv2  [3]uint32
	Ops    [ioUringProbeOpsLength]probeOp
}

// geteventsArg mirrors struct io_uring_getevents_arg (IORING_ENTER_EXT_ARG, 5.11).
type geteventsArg struct {
	Sigmask   uint64
	SigmaskSz uint32
	Pad       uint32
	Ts        uint64
}

// Compile-time layout checks: a mismatch fails the build.
var (
	_ [64 - unsafe.Sizeof(SQE{})]byte
	_ [unsafe.Sizeof(SQE{}) - 64]byte
	_ [16 - unsafe.Sizeof(CQE{})]byte
	_ [unsafe.Sizeof(CQE{}) - 16]byte
	_ [16 - unsafe.Sizeof(bufRingEntry{})]byte
	_ [40 - unsafe.Sizeof(bufReg{})]byte
	_ [unsafe.Sizeof(bufReg{}) - 40]byte
	_ [8 - unsafe.Sizeof(probeOp{})]byte
	_ [24 - unsafe.Sizeof(geteventsArg{})]byte
	_ [120 - unsafe.Sizeof(params{})]byte
	_ [unsafe.Sizeof(params{}) - 120]byte
	_ [unsafe.Offsetof(SQE{}.UserData) - 32]byte
	_ [32 - unsafe.Offsetof(SQE{}.UserData)]byte
	_ [unsafe.Offsetof(SQE{}.BufGroup) - 40]byte
	_ [40 - unsafe.Offsetof(SQE{}.BufGroup)]byte
)

package uring

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ProbeResult is what this kernel supports, for the startup log and for
// choosing between the fast path and its fallbacks.
type ProbeResult struct {
	Features       Features // every optional feature the kernel has
	Kernel         string   // uname release, e.g. "6.18.44"
	KernelFeatures uint32   // io_uring_params.features (IORING_FEAT_*)
	ops            [4]uint64
}

// HasOp reports whether IORING_REGISTER_PROBE (5.6) listed op as supported.
func (p ProbeResult) HasOp(op uint8) bool { return p.ops[op/64]&(1<<(op%64)) != 0 }

// Missing returns the known features this kernel lacks.
func (p ProbeResult) Missing() Features { return AllFeatures &^ p.Features }

// String is one line for the startup log.
func (p ProbeResult) String() string {
	return fmt.Sprintf("io_uring on Linux %s: have %s; missing %s", p.Kernel, p.Features, p.Missing())
}

var probeCache struct {
	once sync.Once
	res  ProbeResult
	err  error
}

// Probe reports which optional io_uring features this kernel has. It runs
// once per process (the result is cached) on throw-away rings:
//   - setup flags (SUBMIT_ALL, COOP_TASKRUN, SINGLE_ISSUER, DEFER_TASKRUN):
//     io_uring_setup with the flag, accepted or EINVAL;
//   - EXT_ARG: io_uring_params.features;
//   - ring fd registration and buffer rings: the register call itself;
//   - PROVIDE_BUFFERS, SEND_ZC: IORING_REGISTER_PROBE opcode list;
//   - multishot accept, multishot recv, multishot timeout: see flagProbes.
//
// Its error is a *SetupError with advice (ENOSYS, EPERM, ENOMEM).
func Probe() (ProbeResult, error) {
	probeCache.once.Do(func() { probeCache.res, probeCache.err = probe() })
	return probeCache.res, probeCache.err
}

func probe() (ProbeResult, error) {
	// The probe ring registers its fd with this thread; stay on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	res := ProbeResult{Kernel: kernelRelease()}
	var p params
	fd, err := setup(8, &p)
	if err != nil {
		return res, newSetupError("io_uring_setup", err)
	}
	r := &Ring{fd: fd, enterFD: fd, kfeatures: p.Features}
	defer r.Close()
	if err := r.mapRings(&p); err != nil {
		return res, fmt.Errorf("uring: probe: mapping the rings: %w", err)
	}
	res.KernelFeatures = p.Features
	res.ops = probeOps(fd)

	var f Features
	add := func(x Feature, ok bool) {
		if ok {
			f |= Features(x)
		}
	}
	add(FeatExtArg, p.Features&FeatFlagExtArg != 0)
	add(FeatSubmitAll, trySetup(SetupSubmitAll))
	add(FeatCoopTaskrun, trySetup(SetupCoopTaskrun))
	add(FeatSingleIssuer, trySetup(SetupSingleIssuer))
	add(FeatDeferTaskrun, trySetup(SetupSingleIssuer|SetupDeferTaskrun))
	add(FeatProvideBuffers, res.HasOp(OpProvideBuffers))
	add(FeatSendZC, res.HasOp(OpSendZC))
	add(FeatShutdown, res.HasOp(OpShutdown))
	add(FeatBufRing, probeBufRing(fd))
	for _, fp := range flagProbes {
		add(fp.feat, probeFlag(r, fp))
	}
	add(FeatRegisterRingFD, r.registerRingFD())
	res.Features = f
	return res, nil
}

// probeOps lists supported opcodes (IORING_REGISTER_PROBE, 5.6); all zero
// before 5.6.
func probeOps(fd int) [4]uint64 {
	var ops [4]uint64
	pr := new(probeHdr) // written by the kernel during the call only
	if register(fd, RegisterProbe, unsafe.Pointer(pr), ioUringProbeOpsLength) != nil {
		return ops
	}
	for i := 0; i < int(pr.OpsLen) && i < ioUringProbeOpsLength; i++ {
		if pr.Ops[i].Flags&ioUringOpSupported != 0 {
			op := pr.Ops[i].Op
			ops[op/64] |= 1 << (op % 64)
		}
	}
	return ops
}

// trySetup reports whether io_uring_setup accepts flags.
func trySetup(flags uint32) bool {
	p := params{Flags: flags}
	fd, err := setup(2, &p)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// probeBufRing registers and unregisters a one-entry buffer ring (5.19).
func probeBufRing(fd int) bool {
	mem, err := Mmap(unix.Getpagesize())
	if err != nil {
		return false
	}
	defer Munmap(mem)
	reg := bufReg{RingAddr: addrOf(mem), RingEntries: 1, Bgid: 0xfffe}
	if register(fd, RegisterPbufRing, unsafe.Pointer(&reg), 1) != nil {
		return false
	}
	reg = bufReg{Bgid: 0xfffe}
	register(fd, UnregisterPbufRing, unsafe.Pointer(&reg), 1)
	return true
}

// flagProbe finds out whether the kernel knows one flag of an operation.
// known is the operation with the flag, unknown the same with a bit no
// kernel defines, both on an fd where a kernel that knows the flag fails
// late (ENOTSOCK on a pipe, ETIME) and not in prep (EINVAL). The unknown
// variant is the control: an operation that ignores the field the flag lives
// in takes both (5.10-5.18 recv ignores sqe->ioprio, so a multishot recv
// there is a plain one-shot recv that completes with ENOTSOCK on a pipe
// too), and then EINVAL-or-not says nothing about the flag.
type flagProbe struct {
	feat           Feature
	known, unknown func(s *SQE, pipe int32, ts *unix.Timespec)
}

// The unknown bits are the top bit of the field: accept and recv/send take
// their flags in the 16-bit ioprio (6.18 uses bits 0-4), timeouts in the
// 32-bit timeout_flags (6.18 uses bits 0-6).
var flagProbes = []flagProbe{
	{FeatMultishotAccept,
		func(s *SQE, p int32, _ *unix.Timespec) { s.PrepAcceptMultishot(p, 0) },
		func(s *SQE, p int32, _ *unix.Timespec) { s.PrepAccept(p, 0); s.IoPrio = 1 << 15 }},
	{FeatMultishotRecv,
		func(s *SQE, p int32, _ *unix.Timespec) { s.PrepRecvMultishot(p, 0xfffe) },
		func(s *SQE, p int32, _ *unix.Timespec) { s.PrepRecvSelect(p, 0xfffe, 0); s.IoPrio = 1 << 15 }},
	{FeatMultishotTimeout,
		func(s *SQE, _ int32, ts *unix.Timespec) { s.PrepTimeout(ts, 1, TimeoutMultishot) },
		func(s *SQE, _ int32, ts *unix.Timespec) { s.PrepTimeout(ts, 1, 1<<31) }},
}

// probeFlag reports whether the kernel refuses fp's unknown bit in prep and
// takes its flag.
func probeFlag(r *Ring, fp flagProbe) bool {
	einval := -int32(syscall.EINVAL)
	return probeSQE(r, fp.unknown) == einval && probeSQE(r, fp.known) != einval
}

// probeSQE submits one SQE prepared by prep against the read end of a pipe
// (not a socket) and returns its result; 1 (no errno) if it could not be
// submitted. ts is a 1µs timespec on the heap for timeout probes.
func probeSQE(r *Ring, prep func(s *SQE, pipe int32, ts *unix.Timespec)) int32 {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return 1
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	ts := &unix.Timespec{Nsec: 1000}
	s := r.GetSQE()
	prep(s, int32(fds[0]), ts)
	s.UserData = 1
	if _, err := r.SubmitAndWait(1); err != nil {
		return 1
	}
	res := r.CQEAt(0).Res
	r.CQAdvance(1)
	runtime.KeepAlive(ts)
	return res
}

// kernelRelease returns uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// parseKernel extracts major and minor from a release like "6.18.44-fc".
func parseKernel(rel string) (major, minor int, ok bool) {
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	digits := parts[1]
	if i := strings.IndexFunc(digits, func(c rune) bool { return c < '0' || c > '9' }); i >= 0 {
		digits = digits[:i] // "18-rc1" -> "18"
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(digits)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}

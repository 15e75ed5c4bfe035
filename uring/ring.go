package uring

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Options configure New. The zero value is a 256-entry ring using every
// feature the kernel offers.
type Options struct {
	Entries   uint32   // SQ entries, a power of two; default 256 (the kernel clamps to its maximum)
	CQEntries uint32   // CQ entries; 0 means 4*Entries (IORING_SETUP_CQSIZE, 5.5)
	Disable   Features // features never to use even if the kernel has them (tests force fallbacks)

	// RawWait makes SubmitAndWait block in a raw syscall that keeps the
	// calling goroutine's P. With a plain syscall the Go runtime's sysmon
	// wakes every 20µs while a P sits in a syscall and hands the P to another
	// thread, which on a busy server is a thread switch per loop turn:
	// measured on one core under wrk, 15% of the worker's CPU in
	// finish_task_switch (sysmon's nanosleep, startm/stopm) against 7% with
	// RawWait. Set it only when other goroutines have Ps of their own
	// (GOMAXPROCS above the number of RawWait rings' threads): while the
	// ring waits, its P runs nothing else. Preemption and stop-the-world
	// reach the waiting thread as a signal: the wait returns EINTR and
	// SubmitAndWait yields (runtime.Gosched) before waiting again.
	RawWait bool
}

// DefaultEntries is the SQ size used when Options.Entries is 0.
const DefaultEntries = 256

// Ring is one io_uring instance: its SQ, CQ and SQE array mapped into this
// process. A Ring is not safe for concurrent use; it belongs to the goroutine
// that created it (see New).
type Ring struct {
	fd         int    // the ring's fd; closed by Close
	enterFD    int    // what io_uring_enter gets: fd, or the registered index
	enterFlags uint32 // EnterRegisteredRing when enterFD is a registered index
	registered bool   // ring fd registered with IORING_REGISTER_RING_FDS
	tid        int    // thread that registered the ring fd (only it can unregister)
	setupFlags uint32 // IORING_SETUP_* the kernel accepted
	kfeatures  uint32 // io_uring_params.features (IORING_FEAT_*)
	features   Features
	rawWait    bool // Options.RawWait

	sq submissionQueue
	cq completionQueue

	sqRing  []byte // mmap'd SQ ring (also the CQ ring with IORING_FEAT_SINGLE_MMAP)
	cqRing  []byte // mmap'd CQ ring; nil when it shares sqRing
	sqesMem []byte // mmap'd SQE array

	// deferred is memory handed to the kernel by buffer groups that were
	// closed while the ring was open; Close retires it (Retire) after
	// closing the ring fd.
	deferred [][]byte

	// Wait arguments for IORING_ENTER_EXT_ARG. They live in the Ring (Go
	// heap, never moved) rather than on the stack of SubmitAndWaitTimeout.
	waitTS  unix.Timespec
	waitArg geteventsArg

	closed bool
}

// New creates a ring. Optional setup flags (DEFER_TASKRUN, SINGLE_ISSUER,
// COOP_TASKRUN, SUBMIT_ALL) are tried and dropped, newest first, when the
// kernel refuses them; the ring fd is registered (5.18+) when possible.
// Ring.Features reports what was obtained.
//
// Thread affinity: SINGLE_ISSUER, DEFER_TASKRUN and the registered ring fd
// tie the ring to the OS thread that created it: another thread gets
// EEXIST, EINVAL or EBADF — or, worse, enters a different ring that thread
// registered at the same index — and with DEFER_TASKRUN completions only
// arrive when the creating thread enters the kernel. So call
// runtime.LockOSThread before New, and use and Close the ring only from
// that goroutine while it stays locked.
//
// A failed io_uring_setup is a *SetupError that says what to change
// (ENOSYS, EPERM, ENOMEM); errors.Is(err, unix.EPERM) and friends work.
func New(opts Options) (*Ring, error) {
	entries := opts.Entries
	if entries == 0 {
		entries = DefaultEntries
	}
	cqEntries := opts.CQEntries
	if cqEntries == 0 {
		cqEntries = 4 * entries
	}
	if cqEntries < entries {
		return nil, fmt.Errorf("uring: Options.CQEntries %d must be at least Entries %d", cqEntries, entries)
	}
	p, fd, flags, err := setupWithFallback(entries, cqEntries, opts.Disable)
	if err != nil {
		return nil, newSetupError("io_uring_setup", err)
	}
	r := &Ring{fd: fd, enterFD: fd, setupFlags: flags, kfeatures: p.Features, rawWait: opts.RawWait}
	if err := r.mapRings(&p); err != nil {
		r.Close()
		return nil, fmt.Errorf("uring: mapping the rings: %w", err)
	}
	r.features = r.computeFeatures(opts.Disable)
	if !opts.Disable.Has(FeatRegisterRingFD) && r.registerRingFD() {
		r.features |= Features(FeatRegisterRingFD)
	}
	return r, nil
}

// optionalSetup lists the optional setup flags, newest kernel first: that is
// the order in which they are dropped when io_uring_setup says EINVAL.
var optionalSetup = [...]struct {
	flag uint32
	feat Feature
}{
	{SetupDeferTaskrun, FeatDeferTaskrun}, // 6.1
	{SetupSingleIssuer, FeatSingleIssuer}, // 6.0
	{SetupCoopTaskrun, FeatCoopTaskrun},   // 5.19
	{SetupSubmitAll, FeatSubmitAll},       // 5.18
}

// setupWithFallback calls io_uring_setup with every optional flag not
// disabled, dropping the newest one after each EINVAL.
func setupWithFallback(entries, cqEntries uint32, disable Features) (params, int, uint32, error) {
	var want uint32
	for _, o := range optionalSetup {
		if !disable.Has(o.feat) {
			want |= o.flag
		}
	}
	for {
		if want&SetupSingleIssuer == 0 {
			want &^= SetupDeferTaskrun // DEFER_TASKRUN requires SINGLE_ISSUER
		}
		p := params{Flags: want | SetupCQSize | SetupClamp, CQEntries: cqEntries}
		fd, err := setup(entries, &p)
		if err == nil {
			return p, fd, want, nil
		}
		if !errors.Is(err, syscall.EINVAL) || want == 0 {
			return p, -1, 0, err
		}
		for _, o := range optionalSetup {
			if want&o.flag != 0 {
				want &^= o.flag
				break
			}
		}
	}
}

// mapRings maps the SQ ring, CQ ring and SQE array and fills r.sq and r.cq
// (liburing: io_uring_mmap).
func (r *Ring) mapRings(p *params) error {
	sqSize := int(p.SQOffset.Array) + int(p.SQEntries)*4
	cqSize := int(p.CQOffset.Cqes) + int(p.CQEntries)*int(unsafe.Sizeof(CQE{}))
	single := p.Features&FeatFlagSingleMmap != 0
	if single && cqSize > sqSize {
		sqSize = cqSize
	}
	var err error
	if r.sqRing, err = mmapRing(r.fd, offSQRing, sqSize); err != nil {
		return err
	}
	cqRing := r.sqRing
	if !single {
		if r.cqRing, err = mmapRing(r.fd, offCQRing, cqSize); err != nil {
			return err
		}
		cqRing = r.cqRing
	}
	if r.sqesMem, err = mmapRing(r.fd, offSQEs, int(p.SQEntries)*int(unsafe.Sizeof(SQE{}))); err != nil {
		return err
	}
	r.sq.init(r.sqRing, r.sqesMem, p)
	r.cq.init(cqRing, p)
	return nil
}

// registerRingFD registers the ring fd with the calling thread
// (IORING_REGISTER_RING_FDS, 5.18) so io_uring_enter skips the fd lookup.
func (r *Ring) registerRingFD() bool {
	up := rsrcUpdate{Offset: ^uint32(0), Data: uint64(r.fd)} // offset -1: kernel picks a slot
	if err := register(r.fd, RegisterRingFDs, unsafe.Pointer(&up), 1); err != nil {
		return false
	}
	r.enterFD = int(up.Offset)
	r.enterFlags = EnterRegisteredRing
	r.registered = true
	r.tid = unix.Gettid()
	return true
}

// computeFeatures combines the setup flags this ring got with what the
// kernel offers (Probe) minus what the caller disabled.
func (r *Ring) computeFeatures(disable Features) Features {
	var f Features
	for _, o := range optionalSetup {
		if r.setupFlags&o.flag != 0 {
			f |= Features(o.feat)
		}
	}
	if r.kfeatures&FeatFlagExtArg != 0 {
		f |= Features(FeatExtArg)
	}
	if pr, err := Probe(); err == nil {
		f |= pr.Features & opFeatures
	}
	return f &^ disable
}

// Features reports the features this ring has and may use: obtained from
// the kernel and not disabled by Options.Disable.
func (r *Ring) Features() Features { return r.features }

// FD returns the ring's file descriptor (for logging and IORING_OP_MSG_RING).
func (r *Ring) FD() int { return r.fd }

// SQEntries and CQEntries return the sizes the kernel actually gave.
func (r *Ring) SQEntries() uint32 { return r.sq.entries }

// CQEntries returns the number of CQ entries the kernel allocated.
func (r *Ring) CQEntries() uint32 { return r.cq.entries }

// Close unregisters the ring fd, unmaps the rings and closes the fd, then
// frees the memory of buffer groups closed while the ring was open (Retire:
// its pages go back now, its addresses stay reserved). In-flight
// operations are cancelled by the kernel. Call it from the goroutine (locked
// thread) that called New. Closing twice is a no-op.
func (r *Ring) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if r.registered {
		errs = append(errs, r.unregisterRingFD())
	}
	for _, m := range [][]byte{r.sqesMem, r.cqRing, r.sqRing} {
		if m != nil {
			if err := munmapBytes(m); err != nil {
				errs = append(errs, fmt.Errorf("uring: munmap ring: %w", err))
			}
		}
	}
	r.sqesMem, r.cqRing, r.sqRing = nil, nil, nil
	r.sq = submissionQueue{}
	r.cq = completionQueue{}
	if r.fd >= 0 {
		if err := unix.Close(r.fd); err != nil {
			errs = append(errs, fmt.Errorf("uring: close ring fd: %w", err))
		}
		r.fd = -1
	}
	// Closing the fd only starts the ring's teardown: the kernel cancels
	// and reaps its requests afterwards, on a workqueue, and nothing tells
	// when it is done. A recv still running may write into a selected
	// buffer meanwhile; were the memory unmapped and mapped again for
	// something else, that write would land there.
	for _, m := range r.deferred {
		if err := Retire(m); err != nil {
			errs = append(errs, err)
		}
	}
	r.deferred = nil
	return errors.Join(errs...)
}

// unregisterRingFD undoes registerRingFD. Registrations are per thread: on
// another thread the same index may name another ring, so it refuses, and
// the kernel drops the registration when the creating thread exits.
func (r *Ring) unregisterRingFD() error {
	r.registered = false
	if tid := unix.Gettid(); tid != r.tid {
		return fmt.Errorf("uring: Close on thread %d, but the ring fd was registered by thread %d: "+
			"the registration (and the ring) lives until that thread exits; call runtime.LockOSThread "+
			"before New and Close from the same goroutine", tid, r.tid)
	}
	up := rsrcUpdate{Offset: uint32(r.enterFD)}
	if err := register(r.fd, UnregisterRingFDs, unsafe.Pointer(&up), 1); err != nil {
		return fmt.Errorf("uring: unregister ring fd: %w", err)
	}
	return nil
}

// release frees memory the kernel may still reference: now if the ring is
// closed, otherwise when it closes.
func (r *Ring) release(m []byte) error {
	if m == nil {
		return nil
	}
	if r.closed {
		return Retire(m)
	}
	r.deferred = append(r.deferred, m)
	return nil
}

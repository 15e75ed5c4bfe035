// Package worker is uringd's per-core event loop: one goroutine locked to an
// OS thread pinned to a CPU, owning an io_uring, a SO_REUSEPORT listening
// socket, a connection table, off-heap buffers and a timer wheel, with no
// locks on the hot path. See loop.go for the loop and the CQE dispatch.
package worker

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/tlsrecord"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// Config is one worker's configuration: what both engines share
// (engine.Config, filled by the uringd package from its own Config) and
// the ring's own settings.
type Config struct {
	engine.Config

	ID       int // worker number, for logs
	CPU      int // CPU to pin the thread to; -1: no pinning
	Listener int // listening socket fd (from engine.Listen); the worker closes it

	Tick              time.Duration
	RingEntries       uint32
	RecvBufferSize    int
	RecvBuffers       int
	DisableMultishot  bool
	DisableBufRing    bool
	DisableShutdownOp bool // shutdown(2) rather than IORING_OP_SHUTDOWN (the 5.10 path)
	RawWait           bool // uring.Options.RawWait: the caller keeps a spare P for other goroutines

	// TLSAcceptor, when set, serves TLS 1.3 on every connection (tls.go):
	// shared by all workers of a listener, so session tickets resume on
	// any of them. MaxHandshakes bounds the worker's handshakes in progress.
	TLSAcceptor   *tlsrecord.Acceptor
	MaxHandshakes int
	// KTLS hands TLS 1.3 connections to kernel TLS where internal/ktls's
	// probe finds it, for the suites it takes (ktls.go).
	KTLS bool
	// ConnHandler serves the TLS connections that have no record path
	// (TLS 1.2) on goroutines: safe for concurrent use. nil: they close.
	ConnHandler engine.Handler
}

// Shutdown modes, set by another goroutine and read by the worker after a
// wakeup.
const (
	runServing  int32 = iota
	runDraining       // stop accepting, finish in-flight requests, close idle connections
	runForce          // close every connection now
)

// Worker is one event loop. Create it with New, run it with Run on its own
// goroutine; Shutdown, Stats and Done may be called from any goroutine.
type Worker struct {
	cfg     Config
	handler engine.Handler
	log     *slog.Logger

	ring *uring.Ring
	bufs uring.BufferGroup // where recv takes its buffers (bufs.go)
	lfd  int               // listening socket; -1 once closed
	efd  int               // eventfd other goroutines write to wake the loop

	// Kernel-visible scalars: they live here, in the Worker (heap, never
	// moved, alive for the worker's life), never on a stack.
	efdBuf [8]byte       // eventfd read target
	tickTS unix.Timespec // timer interval

	multishotAccept, multishotRecv, multishotTimer bool
	shutdownOp                                     bool // IORING_OP_SHUTDOWN (5.11+); else shutdown(2)

	conns   table
	wheel   *wheel
	pool    pool
	start   time.Time // tick 0
	tick    time.Duration
	nowTick uint64            // ticks since start, read at the top of each loop turn
	turn    time.Duration     // time since start, read at the top of each loop turn (accesslog.go)
	reqAt   time.Duration     // turn the request being served began arriving (0: this one)
	entry   accesslog.Entry   // the access log line being written (accesslog.go)
	tickDue bool              // a timer CQE came in this turn: run onTick after the I/O
	ticks   [nTimeouts]uint64 // timeouts in ticks
	reading readLimits        // the limits on a whole request's read (timeout.go)
	expired []uint32          // scratch for wheel.advance

	// Receive buffers: recvs armed on the group, the bound on them for a
	// classic group (armRecv; 0: none), and group buffers the kernel handed
	// over and the worker has not recycled yet (a gauge, for leak checks).
	selArmed, selectCap, bufsHeld int
	inBytes                       int // input buffers held by connections (Config.MaxBodyBuffer)

	sendQ  []uint32 // connections with output to send at the end of this turn
	rearmQ []uint32 // connections whose recv must be re-armed at the end of this turn

	// Request being served: shared by all connections of the worker (a
	// request is parsed and answered within one CQE's processing).
	req     http1.Request
	resp    http1.Response
	headers []http1.Header
	date    http1.DateCache

	off offload   // detached responses: inbox from the pool (offload.go)
	tls tlsWorker // TLS handshakes and state (tls.go)

	acceptArmed   bool
	acceptPaused  bool      // EMFILE & co: retry at the next tick
	lastAcceptLog time.Time // rate limit for the EMFILE log
	timerArmed    bool
	slotless      int // send/close SQEs of refused connections without their CQE (accept.go)
	wakeArmed     bool
	mode          int32 // last seen value of run
	exiting       bool  // draining done: cancel the timer and wakeup, then return
	holdFresh     bool  // draining, and a connection that sent nothing yet is kept (drainConn)
	// streamDec is set while a request whose body will be streamed is
	// served (body.go): its chunked decoder, as the parser left it.
	streamDec *http1.ChunkedDecoder

	run   atomic.Int32 // runServing / runDraining / runForce
	stats stats
	feats atomic.Uint32 // uring.Features in use, once the ring exists
	done  chan struct{}
}

// New prepares a worker: it creates the wakeup eventfd and nothing else;
// the ring is created by Run, on the worker's own thread. Call Close once Done
// is closed.
func New(cfg Config) (*Worker, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("uringd: eventfd: %w", err)
	}
	return &Worker{
		cfg:     cfg,
		handler: cfg.Handler,
		log:     cfg.Logger.With("worker", cfg.ID),
		lfd:     cfg.Listener,
		efd:     efd,
		done:    make(chan struct{}),
		headers: make([]http1.Header, 0, cfg.Limits.MaxHeaders),
		pool:    pool{poison: cfg.DebugPoisonBuffers},
	}, nil
}

// Close releases the wakeup eventfd. Call it after Done is closed, once no
// other goroutine calls Shutdown.
func (w *Worker) Close() error {
	<-w.done
	return unix.Close(w.efd)
}

// Run pins the calling goroutine's thread, sets up the ring and serves until
// Shutdown. Setup errors are sent on ready (nil when serving started) and
// returned; ready is written exactly once.
func (w *Worker) Run(ready chan<- error) error {
	defer close(w.done)
	// Locked for good: when Run returns, the goroutine exits still locked and
	// the runtime ends the thread, whose CPU affinity and registered ring fd
	// must not leak to other goroutines.
	runtime.LockOSThread()
	if err := w.setup(); err != nil {
		w.teardown()
		ready <- err
		return err
	}
	ready <- nil
	err := w.loop()
	w.teardown()
	return err
}

func (w *Worker) setup() error {
	if w.cfg.CPU >= 0 {
		var set unix.CPUSet
		set.Set(w.cfg.CPU)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("uringd: worker %d: pinning to CPU %d: %w", w.cfg.ID, w.cfg.CPU, err)
		}
	}
	var disable uring.Features
	if w.cfg.DisableMultishot {
		disable |= uring.Features(uring.FeatMultishotAccept | uring.FeatMultishotRecv | uring.FeatMultishotTimeout)
	}
	if w.cfg.DisableBufRing {
		disable |= uring.Features(uring.FeatBufRing)
	}
	if w.cfg.DisableShutdownOp {
		disable |= uring.Features(uring.FeatShutdown)
	}
	ring, err := uring.New(uring.Options{Entries: w.cfg.RingEntries, Disable: disable, RawWait: w.cfg.RawWait})
	if err != nil {
		return err
	}
	w.ring = ring
	f := ring.Features()
	w.feats.Store(uint32(f))
	w.multishotAccept = f.Has(uring.FeatMultishotAccept)
	w.multishotRecv = f.Has(uring.FeatMultishotRecv)
	w.multishotTimer = f.Has(uring.FeatMultishotTimeout)
	if !f.Has(uring.FeatBufRing) {
		w.selectCap = w.cfg.RecvBuffers
	}
	w.shutdownOp = f.Has(uring.FeatShutdown)
	if w.bufs, err = newBufGroup(ring, w.cfg.RecvBuffers, w.cfg.RecvBufferSize); err != nil {
		return err
	}
	w.initTimers()
	w.armAccept()
	w.armTimer()
	w.armWakeup()
	w.registerOffload()
	return nil
}

// teardown releases what setup acquired. Every op is complete or cancelled by
// then (loop returns only when none is in flight), except on setup errors,
// where nothing was submitted.
func (w *Worker) teardown() {
	w.closeTLSInbox()
	w.unregisterOffload()
	if w.bufs != nil {
		w.bufs.Close()
	}
	if w.ring != nil {
		w.ring.Close()
	}
	for _, c := range w.conns.conns { // only after a loop error: none otherwise
		if c.state != stateFree {
			unix.Close(int(c.fd))
		}
	}
	if w.lfd >= 0 {
		unix.Close(w.lfd)
		w.lfd = -1
	}
}

// Shutdown asks the worker to stop: gracefully (stop accepting, finish the
// requests in flight, close idle connections) or, with force, by closing
// every connection now. It returns at once; wait on Done.
func (w *Worker) Shutdown(force bool) {
	mode := runDraining
	if force {
		mode = runForce
	}
	for {
		old := w.run.Load()
		if old >= mode || w.run.CompareAndSwap(old, mode) {
			break
		}
	}
	w.wake()
}

// wake makes the worker's pending eventfd read complete.
func (w *Worker) wake() {
	one := [8]byte{1}
	unix.Write(w.efd, one[:]) // blocking eventfd: blocks only at a counter of 2^64-2
}

// Done is closed when Run has returned.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Stats returns the worker's counters as of its last loop turn, with
// those of its TLS connections served on goroutines (tls_goroutine.go).
func (w *Worker) Stats() Stats {
	st := w.stats.snapshot()
	w.addServedStats(&st)
	return st
}

// Features reports the io_uring features the worker's ring uses (0 before Run).
func (w *Worker) Features() uring.Features { return uring.Features(w.feats.Load()) }

// ShutdownOp reports whether the lingering close submits IORING_OP_SHUTDOWN
// (else it calls shutdown(2)).
// Valid once Run has reported ready.
func (w *Worker) ShutdownOp() bool { return w.Features().Has(uring.FeatShutdown) }

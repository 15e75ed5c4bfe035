package uringd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

// TestMode is one way of driving the kernel. Every end-to-end test, in this
// package and in uringd_test, runs in each of TestModes through ForEachMode
// (exported so the external test package shares the one matrix).
type TestMode struct {
	Name   string
	Engine Engine
	Cfg    Config // the mode's feature switches; Apply copies them into a test's Config
}

// TestModes: the io_uring fast path; its Linux 5.10 path (single-shot accept
// and recv, classic provided buffers, shutdown(2) instead of
// IORING_OP_SHUTDOWN: the features 5.10 lacks, switched off); the netpoll
// engine; the fast path with workers waiting in a syscall the Go scheduler
// sees (KeepGOMAXPROCS, no raw wait).
var TestModes = []TestMode{
	{"iouring", EngineIOUring, Config{}},
	{"iouring-5.10-path", EngineIOUring, Config{DisableMultishot: true, DisableBufRing: true, DisableShutdownOp: true}},
	{"netpoll", EngineNetpoll, Config{}},
	{"iouring-scheduler-visible-wait", EngineIOUring, Config{KeepGOMAXPROCS: true}},
}

// fastPath is the mode of the tests of io_uring-only behaviour.
var fastPath = TestModes[0]

func (m TestMode) String() string { return m.Name }

// Apply sets cfg's engine and switches on the mode's feature switches; a
// switch the test itself turned on stays on.
func (m TestMode) Apply(cfg *Config) {
	cfg.Engine = m.Engine
	cfg.DisableMultishot = cfg.DisableMultishot || m.Cfg.DisableMultishot
	cfg.DisableBufRing = cfg.DisableBufRing || m.Cfg.DisableBufRing
	cfg.DisableShutdownOp = cfg.DisableShutdownOp || m.Cfg.DisableShutdownOp
	cfg.KeepGOMAXPROCS = cfg.KeepGOMAXPROCS || m.Cfg.KeepGOMAXPROCS
}

// ForEachMode runs fn as a subtest per mode; io_uring modes skip, with the
// reason, where io_uring cannot be set up, and netpoll still runs.
func ForEachMode(t *testing.T, fn func(t *testing.T, m TestMode)) {
	t.Helper()
	for _, m := range TestModes {
		t.Run(m.Name, func(t *testing.T) {
			SkipWithoutIOUring(t, m.Engine)
			fn(t, m)
		})
	}
}

// SkipWithoutIOUring skips the test if engine is io_uring and this process
// cannot set up a ring (old kernel, kernel.io_uring_disabled, a container's
// seccomp profile, or URINGD_TEST_DENY_IOURING).
func SkipWithoutIOUring(t testing.TB, engine Engine) {
	t.Helper()
	if engine != EngineIOUring {
		return
	}
	if err := ioUringUnavailable(); err != nil {
		t.Skipf("io_uring unavailable (old kernel, kernel.io_uring_disabled or seccomp?): %v", err)
	}
}

// StartTestServer is the one server harness of the end-to-end tests: it
// starts a server with cfg and the routes setup registers, skipping where
// cfg's engine cannot run, and at the end of the test shuts it down
// (failing with every goroutine's stack if that does not finish) and checks
// that an io_uring server gave back every connection and buffer. The
// deadline is past the header timeout: a graceful shutdown rightly waits
// for a partly received request until that timeout.
func StartTestServer(t *testing.T, cfg Config, setup func(s *Server)) *Server {
	t.Helper()
	SkipWithoutIOUring(t, cfg.Engine)
	s, err := New(cfg)
	require.NoError(t, err)
	setup(s)
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.HeaderTimeout+5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			buf := make([]byte, 1<<20)
			t.Fatalf("shutdown: %v\n%s", err, buf[:runtime.Stack(buf, true)])
		}
		if s.Engine() == EngineIOUring { // leak check: everything was given back
			st := s.Stats().Total
			assert.Zero(t, st.Open, "connections open after shutdown")
			assert.Zero(t, st.BuffersInUse, "buffers held after shutdown")
		}
	})
	return s
}

// ioUringUnavailable probes once. Only the errors meaning "not here" count:
// any other setup failure is a bug the tests must report, not skip.
var ioUringUnavailable = sync.OnceValue(func() error {
	runtime.LockOSThread() // SINGLE_ISSUER: the ring is created and closed on one thread
	defer runtime.UnlockOSThread()
	r, err := uring.New(uring.Options{Entries: 2})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return err
	}
	if err == nil {
		r.Close()
	}
	return nil
})

// TestMain: with URINGD_TEST_DENY_IOURING=1 the whole suite runs under a
// seccomp filter refusing io_uring_setup (as Docker's default profile does),
// installed on every thread before any test: io_uring modes must skip and
// everything else pass (scripts/test.sh runs it).
func TestMain(m *testing.M) {
	if os.Getenv("URINGD_TEST_DENY_IOURING") == "1" {
		if err := denyIOUringSetup(); err != nil {
			fmt.Fprintln(os.Stderr, "URINGD_TEST_DENY_IOURING: installing the seccomp filter:", err)
			os.Exit(2)
		}
		if ioUringUnavailable() == nil {
			fmt.Fprintln(os.Stderr, "URINGD_TEST_DENY_IOURING: io_uring_setup still works under the filter")
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

package uring

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newInternalRing is a ring on a locked thread for white-box tests.
func newInternalRing(t *testing.T, opts Options) *Ring {
	t.Helper()
	runtime.LockOSThread()
	r, err := New(opts)
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("io_uring unavailable: %v", err)
	}
	t.Cleanup(func() { r.Close(); runtime.UnlockOSThread() })
	return r
}

// The multishot probes rely on prep-time validation (EINVAL for a flag the
// kernel does not know) coming before the fd-type check (ENOTSOCK on a
// pipe). Unknown bits stand in for "a kernel too old to know the flag".
func TestProbeTellsUnknownFlagsFromKnownOnes(t *testing.T) {
	r := newInternalRing(t, Options{Entries: 4})
	einval := -int32(syscall.EINVAL)
	cases := []struct {
		name  string
		prep  func(s *SQE, pipe int32, ts *unix.Timespec)
		known bool
	}{
		{"accept-multishot", func(s *SQE, p int32, _ *unix.Timespec) { s.PrepAcceptMultishot(p, 0) }, true},
		{"accept-unknown-ioprio-bit", func(s *SQE, p int32, _ *unix.Timespec) { s.PrepAccept(p, 0); s.IoPrio = 1 << 15 }, false},
		{"recv-multishot", func(s *SQE, p int32, _ *unix.Timespec) { s.PrepRecvMultishot(p, 0xfffe) }, true},
		{"recv-unknown-ioprio-bit", func(s *SQE, p int32, _ *unix.Timespec) { s.PrepRecvMultishot(p, 0xfffe); s.IoPrio |= 1 << 15 }, false},
		{"timeout-multishot", func(s *SQE, _ int32, ts *unix.Timespec) { s.PrepTimeout(ts, 1, TimeoutMultishot) }, true},
		{"timeout-unknown-flag", func(s *SQE, _ int32, ts *unix.Timespec) { s.PrepTimeout(ts, 1, 1<<30) }, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.known, probeSQE(r, c.prep, einval), c.name)
	}
}

// New drops an optional setup flag the kernel refuses and keeps going.
func TestNewDropsRefusedSetupFlags(t *testing.T) {
	saved := optionalSetup
	defer func() { optionalSetup = saved }()
	optionalSetup[0].flag = 1 << 30 // no kernel knows this one: EINVAL
	r := newInternalRing(t, Options{Entries: 4})
	assert.False(t, r.Features().Has(FeatDeferTaskrun), "the refused flag is dropped")
	assert.Zero(t, r.setupFlags&(1<<30))
	p, err := Probe()
	require.NoError(t, err)
	if p.Features.Has(FeatSingleIssuer) {
		assert.True(t, r.Features().Has(FeatSingleIssuer), "older flags are kept")
	}
}

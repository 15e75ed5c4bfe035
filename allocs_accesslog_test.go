//go:build !race

package uringd_test

import (
	"io"
	"net"
	"testing"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/accesslog"
)

// The access log adds no allocation per request on the event loop: the
// line is appended to the worker's sink in place (the connection's peer
// address is read once, without an allocation). Whether the writer keeps
// up at this rate is not this test's business (a line it cannot take is
// dropped and counted, by design: TestStuckDestinationDropsAndNeverBlocks).
func TestZeroAllocsPerRequestWithAccessLog(t *testing.T) {
	for _, f := range []accesslog.Format{accesslog.Combined, accesslog.JSON} {
		t.Run(f.String(), func(t *testing.T) {
			l := accesslog.New(io.Discard, f, nil)
			t.Cleanup(func() { l.Close() }) // after the server's shutdown (cleanups run last first)
			cfg := testConfig(uringd.TestModes[0])
			cfg.Logger = testLogger(t)
			cfg.AccessLog = l
			s := startServer(t, cfg)
			c := newRawSyscallClient(t, s.Addr().(*net.TCPAddr), helloReq, "Hello, World!")
			requireNoMallocsPerRoundTrip(t, f.String(), func() { c.roundTrip(t) })
		})
	}
}

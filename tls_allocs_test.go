//go:build !race

package uringd_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestTLSZeroAllocsPerRequest counts every heap allocation in the process
// over 10,000 keep-alive requests on a warm TLS 1.3 connection to the
// io_uring engine's record path, as TestZeroAllocsPerRequest does over
// cleartext. The client allocates nothing per request (tlsClient), so the
// count is the server's: it must stay at 0 (a fixed slack for the
// runtime's thread starts).
func TestTLSZeroAllocsPerRequest(t *testing.T) {
	for _, m := range uringd.TestModes {
		if m.Engine != uringd.EngineIOUring {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			cfg := testConfig(m)
			cfg.DebugPoisonBuffers = false
			cfg.Logger = testLogger(t)
			cfg.TLS = tlsServerConfig(t)
			cfg.TLS.SessionTicketsDisabled = true // no record after the handshake (newTLSClient)
			cfg.DisableKTLS = true                // counts the userland record layer's allocations
			s := startTLSServer(t, cfg, nil)
			reqs := []struct{ name, req, body string }{
				{"GET_hello", helloReq, "Hello, World!"},
				{"POST_echo", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef", "0123456789abcdef"},
				{"pipelined_8", string(bytes.Repeat([]byte(helloReq), 8)), "Hello, World!"},
			}
			for _, rq := range reqs {
				t.Run(rq.name, func(t *testing.T) {
					c := newTLSClient(t, s, rq.req, rq.body)
					requireNoMallocsPerRoundTrip(t, "TLS "+rq.name, func() { c.roundTrip(t) })
				})
			}
		})
	}
}

// BenchmarkTLSKeepAliveRoundTrip is BenchmarkKeepAliveRoundTrip over TLS
// 1.3 on the io_uring record path (client and server in this process; the
// client seals and opens with tlsrecord too). Allocations are the server's.
func BenchmarkTLSKeepAliveRoundTrip(b *testing.B) {
	for _, m := range uringd.TestModes[:2] { // the io_uring fast and 5.10 paths
		b.Run(m.Name, func(b *testing.B) {
			uringd.SkipWithoutIOUring(b, m.Engine)
			cfg := testConfig(m)
			cfg.DebugPoisonBuffers = false
			cfg.TLS = tlsServerConfig(b)
			cfg.TLS.SessionTicketsDisabled = true // newTLSClient
			s, err := uringd.New(cfg)
			require.NoError(b, err)
			testRoutes(s)
			require.NoError(b, s.Start())
			defer s.Shutdown(context.Background())
			c := newTLSClient(b, s, helloReq, "Hello, World!")
			for i := 0; i < 100; i++ {
				c.roundTrip(b)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.roundTrip(b)
			}
		})
	}
}

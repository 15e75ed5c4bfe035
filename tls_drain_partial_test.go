package uringd_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestTLSDrainKeepsPartialRecord: at a graceful shutdown, a TLS connection
// whose request the server has received part of, as part of one record
// (nothing of it is plaintext yet), is not idle: once the rest of the
// record comes, the request is answered with Connection: close. On the
// TLS 1.3 record path the part waits in the connection's raw buffer
// (worker drainConn); on the TLS 1.2 goroutine path crypto/tls holds it
// while its read waits on tlsrecord's transport (netpoll closeIfIdle asks
// the transport). io_uring only: on netpoll crypto/tls reads the socket
// itself, and what it holds of a record cannot be seen from outside.
func TestTLSDrainKeepsPartialRecord(t *testing.T) {
	for _, v := range []struct {
		name string
		max  uint16
	}{{"tls13-record-path", 0}, {"tls12-goroutine", tls.VersionTLS12}} {
		t.Run(v.name, func(t *testing.T) {
			forEachMode(t, func(t *testing.T, cfg uringd.Config) {
				if cfg.Engine == uringd.EngineNetpoll {
					t.Skip("netpoll: the part of a record crypto/tls read from the socket cannot be seen")
				}
				testDrainPartialRecord(t, cfg, v.max)
			})
		})
	}
}

func testDrainPartialRecord(t *testing.T, cfg uringd.Config, maxVersion uint16) {
	cfg.Workers = 1 // the idle connection's close shows that the drain looked at both
	cfg.TLS = tlsServerConfig(t)
	s, err := uringd.New(cfg)
	require.NoError(t, err)
	testRoutes(s)
	require.NoError(t, s.Start())
	cc := tlsClientConfig()
	cc.MaxVersion = maxVersion
	tc, wire := dialTLSWire(t, s, cc)
	busy := tlsRaw(t, tc)
	busy.send(helloReq)
	busy.response("GET")
	idle := tlsRaw(t, dialTLS(t, s, cc.Clone()))
	idle.send(helloReq)
	idle.response("GET")

	wire.hold()
	busy.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhelloworld")
	rec := wire.takeHeld() // one record
	require.Greater(t, len(rec), 60)
	k := len(rec) / 2 // its header and part of its body
	before := s.Stats().Total.BytesIn
	wire.sendRaw(t, rec[:k])
	waitBytesIn(t, s, before, uint64(k), 0)

	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	idle.expectClosed()
	wire.sendRaw(t, rec[k:])
	resp, body := busy.response("POST")
	require.Equal(t, "helloworld", body)
	require.True(t, resp.Close, "the last response says Connection: close")
	busy.expectClosed()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	st := s.Stats().Total
	require.Zero(t, st.Open)
	require.Zero(t, st.BuffersInUse)
}

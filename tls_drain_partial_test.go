package uringd_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestTLSDrainKeepsPartialRecord: at a graceful shutdown, a TLS connection
// whose request the server has received part of, as part of one record
// (nothing of it is plaintext yet: part of its header, or the header and
// part of its body), is not idle: once the rest of the record comes, the
// request is answered with Connection: close. On the TLS 1.3 record path
// the part waits in the connection's raw buffer (worker drainConn); on the
// TLS 1.2 goroutine path crypto/tls holds it while its read waits on
// tlsrecord's transport (netpoll closeIfIdle asks the transport); on
// netpoll crypto/tls holds it while its read waits on the socket, and the
// socket's wrapper follows the record framing (netpoll rawConn); under
// kernel TLS the kernel keeps it in the socket's receive queue.
func TestTLSDrainKeepsPartialRecord(t *testing.T) {
	for _, v := range []struct {
		name string
		max  uint16
	}{{"tls13-record-path", 0}, {"tls12-goroutine", tls.VersionTLS12}} {
		t.Run(v.name, func(t *testing.T) {
			forEachMode(t, func(t *testing.T, cfg uringd.Config) {
				for _, sp := range []struct {
					name string
					at   func(rec []byte) int
				}{{"header", func([]byte) int { return 3 }}, {"body", func(rec []byte) int { return len(rec) / 2 }}} {
					t.Run(sp.name, func(t *testing.T) { testDrainPartialRecord(t, cfg, v.max, sp.at) })
				}
			})
		})
	}
}

func testDrainPartialRecord(t *testing.T, cfg uringd.Config, maxVersion uint16, split func(rec []byte) int) {
	cfg.Workers = 1 // the idle connection's close shows that the drain looked at both
	cfg.TLS = tlsServerConfig(t)
	s, err := uringd.New(cfg)
	require.NoError(t, err)
	// Where the kernel has TLS, the 1.3 connections are handed to it: the
	// partial record then waits in the kernel (worker drainConn asks it).
	kernel := maxVersion != tls.VersionTLS12 && strings.Contains(s.TLSRecordPath(), "(kTLS)")
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
	if kernel {
		ktlsConns(t, s, 2) // both handed to the kernel: the partial record is its
	}

	wire.hold()
	busy.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhelloworld")
	rec := wire.takeHeld() // one record
	require.Greater(t, len(rec), 60)
	k := split(rec)
	before := s.Stats().Total.BytesIn
	wire.sendRaw(t, rec[:k])
	switch {
	case kernel:
		waitAcked(t, wire.Conn) // the kernel keeps a partial record: no counter moves
	case s.Engine() == uringd.EngineNetpoll:
		waitReadByServer(t, wire.Conn) // its BytesIn counts plaintext: none yet
	default:
		waitBytesIn(t, s, before, uint64(k), 0)
	}

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

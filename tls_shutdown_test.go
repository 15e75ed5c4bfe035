package uringd_test

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestTLSGracefulShutdown: TLS 1.3 and 1.2 connections with half-sent
// requests get their answers (Connection: close) during a graceful
// shutdown, idle TLS connections are closed, and the server exits.
func TestTLSGracefulShutdown(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.TLS = tlsServerConfig(t)
		// The userland record path: the wait for the half requests counts
		// ciphertext (BytesIn), which kernel TLS does not show the worker.
		// TestTLSDrainKeepsPartialRecord covers the drain under kernel TLS.
		cfg.DisableKTLS = true
		cfg.HandshakeTimeout = time.Minute // a stalled handshake is closed by the shutdown, not by this
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		testRoutes(s)
		require.NoError(t, s.Start())
		var busy, idle []*rawConn
		var wires []*wireConn
		const half = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"
		var before uint64
		for i := 0; i < 8; i++ {
			cc := tlsClientConfig()
			if i%2 == 1 {
				cc.MaxVersion = tls.VersionTLS12 // served on a goroutine (worker/tls_goroutine.go)
			}
			tc, wc := dialTLSWire(t, s, cc)
			c := tlsRaw(t, tc)
			c.send(helloReq)
			c.response("GET")
			if i < 4 {
				busy, wires = append(busy, c), append(wires, wc)
			} else {
				idle = append(idle, c)
			}
		}
		stalled := dial(t, s) // a ClientHello and nothing more: closed by the shutdown
		_, err = stalled.Write(clientHello(t))
		require.NoError(t, err)
		first := make([]byte, 1)
		_, err = io.ReadFull(stalled, first) // its handshake is under way
		require.NoError(t, err)
		before = s.Stats().Total.BytesIn
		var wire uint64
		for i, c := range busy {
			w0 := wires[i].Written()
			c.send(half)
			wire += wires[i].Written() - w0
		}
		// Every half request is in: all of its records' bytes (counting
		// only their plaintext, three of the four records were enough).
		waitBytesIn(t, s, before, wire, 4*uint64(len(half)))
		done := make(chan error, 1)
		go func() { done <- s.Shutdown(context.Background()) }()
		for _, c := range idle {
			c.expectClosed()
		}
		readUntilClosed(t, stalled.Conn)
		for i, c := range busy {
			c.send("world")
			resp, body := c.response("POST")
			require.Equal(t, "helloworld", body, "conn %d", i)
			require.True(t, resp.Close, "conn %d: the last response says Connection: close", i)
			c.expectClosed()
		}
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Fatal("shutdown did not finish")
		}
		if s.Engine() == uringd.EngineIOUring {
			st := s.Stats().Total
			require.Zero(t, st.Open)
			require.Zero(t, st.BuffersInUse)
		}
	})
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMakeTLSFiles(t *testing.T) {
	f, err := makeTLSFiles(t.TempDir())
	require.NoError(t, err)
	pair, err := tls.LoadX509KeyPair(f.cert, f.key)
	require.NoError(t, err)
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	require.True(t, ok, "an ECDSA key")
	require.Equal(t, elliptic.P256(), key.Curve)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: f.pool, DNSName: "127.0.0.1"})
	require.NoError(t, err)
	require.Len(t, f.download, downloadSize)
}

// TestWrkResumesTLSSessions is why the handshake scenario turns session
// tickets off: with Connection: close, wrk offers the replaced
// connection's session and a server with tickets resumes nearly every
// handshake; with tickets off every handshake is a full one. Counted by a
// crypto/tls server here (ConnectionState.DidResume).
func TestWrkResumesTLSSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wrk for two seconds; skipped with -short")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed")
	}
	files, err := makeTLSFiles(t.TempDir())
	require.NoError(t, err)
	pair, err := tls.LoadX509KeyPair(files.cert, files.key)
	require.NoError(t, err)
	for _, noTickets := range []bool{false, true} {
		var full, resumed atomic.Int64
		cfg := &tls.Config{Certificates: []tls.Certificate{pair}, SessionTicketsDisabled: noTickets,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if cs.DidResume {
					resumed.Add(1)
				} else {
					full.Add(1)
				}
				return nil
			}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("Hello, World!"))
		})}
		go srv.ServeTLS(ln, "", "")
		res, err := runWrk(context.Background(), wrkLoad{port: ln.Addr().(*net.TCPAddr).Port, path: "/", conns: 4,
			threads: 1, headers: []string{"Connection: close"}, https: true, duration: time.Second})
		srv.Close()
		require.NoError(t, err)
		require.Positive(t, res.requests)
		msg := fmt.Sprintf("tickets off %v: %d full handshakes, %d resumed, %d requests", noTickets,
			full.Load(), resumed.Load(), res.requests)
		t.Log(msg)
		if noTickets {
			require.Zero(t, resumed.Load(), msg)
			require.GreaterOrEqual(t, full.Load(), res.requests, msg)
		} else {
			// The first handshake of each connection slot is a full one.
			require.Greater(t, resumed.Load(), full.Load(), msg)
		}
	}
}

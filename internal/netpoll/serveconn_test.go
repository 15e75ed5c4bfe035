package netpoll

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
)

// testCert is a self-signed certificate for "localhost".
func testCert(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tcpPair is both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server, err = ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { client.Close(); server.Close() })
	client.SetDeadline(time.Now().Add(20 * time.Second))
	return server, client
}

// A TLS connection handed over by ServeConn after its handshake (the
// io_uring worker's TLS 1.2 connections) to a server that is draining is
// served like a connection accepted then: its request is answered with
// Connection: close, not refused as a handshake begun during the drain.
func TestServeConnHandshakeDoneWhileDraining(t *testing.T) {
	s := New(Config{Handler: testHandler{}, Limits: http1.DefaultLimits, MaxPendingOutput: 1 << 20,
		HeaderTimeout: 5 * time.Second, BodyTimeout: 5 * time.Second,
		IdleTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	silentS, silentC := tcpPair(t)
	s.ServeConn(silentS) // fresh: keeps the drain going
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	require.Eventually(t, s.draining.Load, 10*time.Second, time.Millisecond)

	rawS, rawC := tcpPair(t)
	srv := tls.Server(rawS, &tls.Config{Certificates: []tls.Certificate{testCert(t)}, MaxVersion: tls.VersionTLS12})
	cli := tls.Client(rawC, &tls.Config{InsecureSkipVerify: true})
	hs := make(chan error, 1)
	go func() { hs <- srv.Handshake() }()
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-hs)
	s.ServeConn(srv)

	_, err := io.WriteString(cli, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(cli), nil)
	require.NoError(t, err, "the handed-over connection's request is answered")
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, "/x", string(body))
	require.True(t, resp.Close)

	silentC.Close()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}

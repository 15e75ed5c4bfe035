package metrics_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// untilClosed reads c until the server closes it (EOF or a reset); a
// deadline instead fails.
func untilClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server did not close the connection")
}

// The TLS counters move with real clients, on both engines: a good
// handshake of each version (TLS 1.2 is served by goroutines on io_uring,
// and its requests count too), garbage instead of a ClientHello, a client
// that stalls mid-handshake past HandshakeTimeout, and a forged record
// after a handshake of each version.
func TestTLSCountersMoveWithRealClients(t *testing.T) {
	for _, engine := range []uringd.Engine{uringd.EngineIOUring, uringd.EngineNetpoll} {
		t.Run(engine.String(), func(t *testing.T) {
			cert, pool := selfSigned(t)
			srv, _, base := startServer(t, engine, func(c *uringd.Config) {
				c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
				// Long enough for a good handshake on a loaded machine (-race
				// in CI): the stalled client waits it out once.
				c.HandshakeTimeout, c.Tick = 2*time.Second, 10*time.Millisecond
			})
			addr := srv.Addr().String()
			clientCfg := func(v uint16) *tls.Config {
				return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: v, MaxVersion: v}
			}
			var fams map[string]*dto.MetricFamily
			until := func(name string, want float64, kv ...string) {
				t.Helper()
				require.Eventually(t, func() bool {
					fams = scrape(t, base)
					return sum(fams, name, kv...) == want
				}, 10*time.Second, 10*time.Millisecond, "%s %v: %v, want %v", name, kv, sum(fams, name, kv...), want)
			}

			// Good handshakes, one request each.
			for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
				tr := &http.Transport{TLSClientConfig: clientCfg(v)}
				resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/")
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				tr.CloseIdleConnections()
				require.Equal(t, "Hello, World!", string(b))
				require.Equal(t, v, resp.TLS.Version)
			}
			until("uringd_tls_handshakes_total", 1, "version", "TLSv1.3")
			until("uringd_tls_handshakes_total", 1, "version", "TLSv1.2")
			until("uringd_requests_total", 2) // the TLS 1.2 one as well
			assert.Equal(t, 0.0, sum(fams, "uringd_tls_handshake_failures_total"))
			assert.Equal(t, 0.0, sum(fams, "uringd_tls_bad_records_total"))

			// Garbage instead of a ClientHello.
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Write(bytes.Repeat([]byte{0}, 64))
			require.NoError(t, err)
			untilClosed(t, c)
			until("uringd_tls_handshake_failures_total", 1, "kind", "error")

			// A client that sends the start of a ClientHello, then nothing.
			c, err = net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03})
			require.NoError(t, err)
			untilClosed(t, c)
			until("uringd_tls_handshake_failures_total", 1, "kind", "timeout")
			assert.Equal(t, 1.0, sum(fams, "uringd_tls_handshake_failures_total", "kind", "error"))

			// A forged application data record after a good handshake.
			for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
				raw, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				defer raw.Close()
				tc := tls.Client(raw, clientCfg(v))
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				require.NoError(t, tc.Handshake())
				forged := append([]byte{0x17, 0x03, 0x03, 0x00, 0x20}, bytes.Repeat([]byte{0x42}, 0x20)...)
				_, err = raw.Write(forged)
				require.NoError(t, err)
				untilClosed(t, raw)
			}
			until("uringd_tls_bad_records_total", 2)
			assert.Equal(t, 2.0, sum(fams, "uringd_tls_handshakes_total", "version", "TLSv1.3"))
			assert.Equal(t, 2.0, sum(fams, "uringd_tls_handshakes_total", "version", "TLSv1.2"))
			assert.Equal(t, 0.0, sum(fams, "uringd_tls_handshakes_total", "version", "TLSv1.1"))
			assert.Equal(t, 2.0, sum(fams, "uringd_tls_handshake_failures_total"))

			st := srv.Stats().Total
			assert.Equal(t, [4]uint64{0, 0, 2, 2}, st.TLSHandshakes)
			assert.Equal(t, uint64(1), st.TLSHandshakeErrors)
			assert.Equal(t, uint64(1), st.TLSHandshakeTimeouts)
			assert.Equal(t, uint64(2), st.TLSBadRecords)
		})
	}
}

// On io_uring the header timeout runs from the accept, so it can end a
// handshake before HandshakeTimeout does: that counts as a handshake
// timeout too (and a head timeout), not as a failed handshake.
func TestTLSHandshakeEndedByHeaderTimeoutIsATimeout(t *testing.T) {
	cert, _ := selfSigned(t)
	srv, _, base := startServer(t, uringd.EngineIOUring, func(c *uringd.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.HandshakeTimeout, c.HeaderTimeout, c.Tick = time.Minute, 300*time.Millisecond, 10*time.Millisecond
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00})
	require.NoError(t, err)
	untilClosed(t, c)
	var fams map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fams = scrape(t, base)
		return sum(fams, "uringd_tls_handshake_failures_total", "kind", "timeout") == 1
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 0.0, sum(fams, "uringd_tls_handshake_failures_total", "kind", "error"))
	assert.Equal(t, 1.0, sum(fams, "uringd_timeouts_total", "kind", "head"))
}

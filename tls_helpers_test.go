package uringd_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// testCA is a CA made once per test binary, with leaves issued on demand
// (ECDSA P-256).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool

	mu     sync.Mutex
	serial int64
}

var theCA = sync.OnceValue(func() *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "uringd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, serial: 1}
})

// leaf issues a server certificate for names.
func (ca *testCA) leaf(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	l, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: l}
}

// tlsServerConfig serves one certificate for "localhost" and 127.0.0.1.
func tlsServerConfig(t testing.TB) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{theCA().leaf(t, "localhost")}}
}

// tlsClientConfig trusts the test CA.
func tlsClientConfig() *tls.Config {
	return &tls.Config{RootCAs: theCA().pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
}

// startTLSServer starts the test routes over TLS.
func startTLSServer(t *testing.T, cfg uringd.Config, setup func(s *uringd.Server)) *uringd.Server {
	if cfg.TLS == nil {
		cfg.TLS = tlsServerConfig(t)
	}
	return uringd.StartTestServer(t, cfg, func(s *uringd.Server) {
		testRoutes(s)
		if setup != nil {
			setup(s)
		}
	})
}

// httpsClient is a net/http client over TLS with cfg (nil: the default
// client config), keep-alive on.
func httpsClient(t *testing.T, cfg *tls.Config) *http.Client {
	if cfg == nil {
		cfg = tlsClientConfig()
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: false, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// dialTLS opens a TLS connection to s with cfg (nil: default).
func dialTLS(t *testing.T, s *uringd.Server, cfg *tls.Config) *tls.Conn {
	t.Helper()
	if cfg == nil {
		cfg = tlsClientConfig()
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(), cfg)
	require.NoError(t, err)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// port is s's port, for URLs with a host name the certificate names.
func port(s *uringd.Server) string {
	_, p, _ := net.SplitHostPort(s.Addr().String())
	return p
}

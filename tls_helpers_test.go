package uringd_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/tlsrecord"
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

// clientLeaf issues a client certificate for cn.
func (ca *testCA) clientLeaf(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
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

// tlsClient is rawSyscallClient over TLS 1.3: crypto/tls's client does the
// handshake (its KeyLogWriter gives the traffic secrets), then the records
// are sealed and opened with tlsrecord on preallocated buffers, because
// crypto/tls's own Read allocates once per call (readFromUntil), which
// would hide the server's count. The server issues no session tickets
// here, so no record follows the handshake and both sequence numbers
// start at 0.
type tlsClient struct {
	nc     net.Conn
	rec    *tlsrecord.Conn
	req    []byte
	wire   []byte
	in     []byte
	plain  []byte
	suffix []byte
	count  int
	empty  int // records that carried no data (a KeyUpdate)
}

type secretLog struct{ client, server []byte }

func (k *secretLog) Write(line []byte) (int, error) {
	f := bytes.Fields(line)
	if len(f) == 3 {
		s, _ := hex.DecodeString(string(f[2]))
		switch string(f[0]) {
		case "CLIENT_TRAFFIC_SECRET_0":
			k.client = s
		case "SERVER_TRAFFIC_SECRET_0":
			k.server = s
		}
	}
	return len(line), nil
}

func newTLSClient(t testing.TB, s *uringd.Server, req, body string) *tlsClient {
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	var keys secretLog
	cc := tlsClientConfig()
	cc.KeyLogWriter = &keys
	c := tls.Client(nc, cc)
	require.NoError(t, c.Handshake())
	st := c.ConnectionState()
	require.Equal(t, uint16(tls.VersionTLS13), st.Version)
	rec, err := tlsrecord.NewConn(tlsrecord.Params{Suite: st.CipherSuite, ReadSecret: keys.server, WriteSecret: keys.client})
	require.NoError(t, err)
	nc.SetDeadline(time.Now().Add(time.Minute))
	return &tlsClient{nc: nc, rec: rec, req: []byte(req), wire: make([]byte, 0, 64<<10), in: make([]byte, 0, 64<<10),
		plain: make([]byte, 0, 64<<10), suffix: []byte("\r\n\r\n" + body), count: bytes.Count([]byte(req), []byte("HTTP/1.1\r\n"))}
}

func (c *tlsClient) roundTrip(t testing.TB) {
	w, err := c.rec.Seal(c.wire[:0], c.req)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	if _, err := c.nc.Write(w); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.plain = c.plain[:0]
	for {
		m, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
		if err != nil || m <= 0 {
			t.Fatalf("read: %d, %v", m, err)
		}
		c.in = c.in[:len(c.in)+m]
		off := 0
		for {
			data, n, err := c.rec.Open(c.in[off:])
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if n == 0 {
				break
			}
			if len(data) == 0 {
				c.empty++
			}
			c.plain = append(c.plain, data...)
			off += n
		}
		c.in = c.in[:copy(c.in, c.in[off:])]
		if bytes.HasSuffix(c.plain, c.suffix) && bytes.Count(c.plain, c.suffix) == c.count {
			return
		}
	}
}

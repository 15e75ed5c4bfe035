package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPKI writes a CA and leaves as PEM files under dir.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	serial int64
}

func newTestPKI(t *testing.T) *testPKI {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "uringd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), ca: ca, caKey: key, pool: x509.NewCertPool(), serial: 1}
	p.pool.AddCert(ca)
	require.NoError(t, os.WriteFile(p.path("ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

// leaf writes name.pem and name.key for a certificate of cn (and dns names),
// and returns its serial number.
func (p *testPKI) leaf(t *testing.T, name, cn string, dns ...string) int64 {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn},
		DNSNames: append([]string{cn}, dns...), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p.path(name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(p.path(name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return p.serial
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// serial dials addr with SNI name and returns the certificate's serial.
func serialOf(t *testing.T, p *testPKI, addr, name string) int64 {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: p.pool, ServerName: name})
	require.NoError(t, err)
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestBinaryTLS runs uringd with two certificates (SNI), the redirect
// listener and SIGHUP reloads, on both engines, and talks to it with Go's
// client, curl and openssl s_client.
func TestBinaryTLS(t *testing.T) {
	for _, engine := range []string{"io_uring", "netpoll"} {
		t.Run(engine, func(t *testing.T) {
			p := newTestPKI(t)
			sa := p.leaf(t, "a", "a.example")
			sb := p.leaf(t, "b", "b.example", "localhost")
			redirect := freePort(t)
			s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-engine", engine,
				"-tls-cert", p.path("a.pem"), "-tls-key", p.path("a.key"),
				"-tls-cert", p.path("b.pem"), "-tls-key", p.path("b.key"),
				"-redirect-http", redirect)
			require.Contains(t, s.log.String(), "tls=")
			_, port, _ := net.SplitHostPort(s.addr)

			assert.Equal(t, sa, serialOf(t, p, s.addr, "a.example"))
			assert.Equal(t, sb, serialOf(t, p, s.addr, "b.example"))

			// An established keep-alive connection, kept across the reloads.
			kc, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: p.pool, ServerName: "a.example"})
			require.NoError(t, err)
			defer kc.Close()
			kbr := bufio.NewReader(kc)
			hello := func() {
				t.Helper()
				kc.SetDeadline(time.Now().Add(10 * time.Second))
				_, err := io.WriteString(kc, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")
				require.NoError(t, err)
				resp, err := http.ReadResponse(kbr, nil)
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, "Hello, World!", string(b))
			}
			hello()

			if _, err := exec.LookPath("curl"); err == nil {
				out, err := exec.Command("curl", "-sS", "--max-time", "10", "--cacert", p.path("ca.pem"),
					"--resolve", "b.example:"+port+":127.0.0.1", "https://b.example:"+port+"/").CombinedOutput()
				require.NoError(t, err, "%s", out)
				assert.Equal(t, "Hello, World!", string(out))
			} else {
				t.Log("no curl: skipped")
			}
			if _, err := exec.LookPath("openssl"); err == nil {
				cmd := exec.Command("openssl", "s_client", "-connect", s.addr, "-servername", "b.example",
					"-CAfile", p.path("ca.pem"), "-verify_return_error", "-quiet", "-ign_eof")
				cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s", out)
				assert.Contains(t, string(out), "Hello, World!")
			} else {
				t.Log("no openssl: skipped")
			}

			// The redirect listener: 308 to the same host and target over https.
			cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
			resp, err := cl.Get("http://" + redirect + "/some/path?q=1")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusPermanentRedirect, resp.StatusCode)
			assert.Equal(t, "https://127.0.0.1:"+port+"/some/path?q=1", resp.Header.Get("Location"))

			// SIGHUP with a new certificate for a: new handshakes present it,
			// the old connection goes on.
			sa2 := p.leaf(t, "a", "a.example")
			s.signal(t, syscall.SIGHUP)
			s.waitLog(t, "TLS certificates reloaded")
			assert.Equal(t, sa2, serialOf(t, p, s.addr, "a.example"))
			hello()

			// A bad file: the old certificates stay, and the log says why.
			require.NoError(t, os.WriteFile(p.path("b.key"), []byte("not a key"), 0o600))
			s.signal(t, syscall.SIGHUP)
			s.waitLog(t, "TLS certificates not reloaded")
			assert.Equal(t, sb, serialOf(t, p, s.addr, "b.example"))
			assert.Equal(t, sa2, serialOf(t, p, s.addr, "a.example"))
			hello()

			s.signal(t, syscall.SIGTERM)
			assert.Equal(t, 0, s.wait(t), "%s", s.log.String())
		})
	}
}

// TestBinaryTLSFlagErrors: unpaired TLS flags are refused before serving.
func TestBinaryTLSFlagErrors(t *testing.T) {
	code, out := runOut(t, "-addr", "127.0.0.1:0", "-tls-cert", "x.pem")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "-tls-cert and -tls-key come in pairs")
	code, out = runOut(t, "-addr", "127.0.0.1:0", "-redirect-http", "127.0.0.1:0")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "-redirect-http goes with -tls-cert")
	code, out = runOut(t, "-addr", "127.0.0.1:0", "-tls-cert", "/nonexistent.pem", "-tls-key", "/nonexistent.key")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "/nonexistent.pem")
}

// TestBinaryTLSNoTickets: sessions resume by default; with -tls-no-tickets
// no ticket is issued, so a client's second handshake is a full one (the
// bench's handshake scenario depends on it: wrk resumes when it can).
func TestBinaryTLSNoTickets(t *testing.T) {
	p := newTestPKI(t)
	p.leaf(t, "a", "a.example")
	for _, noTickets := range []bool{false, true} {
		args := []string{"-addr", "127.0.0.1:0", "-workers", "1", "-tls-cert", p.path("a.pem"), "-tls-key", p.path("a.key")}
		if noTickets {
			args = append(args, "-tls-no-tickets")
		}
		s := startServer(t, false, args...)
		cfg := &tls.Config{RootCAs: p.pool, ServerName: "a.example", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		resumed := func() bool {
			t.Helper()
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.addr, cfg)
			require.NoError(t, err)
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			// A TLS 1.3 ticket comes after the handshake: read a response
			// so the client has processed it before the next dial.
			_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, "Hello, World!", string(b))
			return c.ConnectionState().DidResume
		}
		require.False(t, resumed(), "first handshake")
		assert.Equal(t, !noTickets, resumed(), "second handshake resumed (-tls-no-tickets %v)", noTickets)
		s.signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, s.wait(t), "%s", s.log.String())
	}
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
)

// TestTestsslReportsNoVulnerability points testssl.sh (Debian package
// testssl.sh) at the binary serving HTTPS on both engines: protocols,
// server defaults, cipher categories, forward secrecy, the server's
// preferences and the vulnerability checks (-p -S -s -f -P -U; the
// per-cipher and client-simulation runs take far longer and test
// crypto/tls's tables rather than uringd's transport). No finding may be
// HIGH or CRITICAL and no protocol below crypto/tls's default minimum for
// servers (TLS 1.2, which the binary keeps) may be offered.
//
// The certificate is made so that the certificate checks judge the server
// rather than a throwaway test certificate: a CA testssl.sh is given
// (--add-ca), validity in months, a CRL distribution point (never
// fetched: no --phone-out).
func TestTestsslReportsNoVulnerability(t *testing.T) {
	bin, err := exec.LookPath("testssl")
	if err != nil {
		if bin, err = exec.LookPath("testssl.sh"); err != nil {
			t.Skip("testssl.sh not installed (apt-get install testssl.sh)")
		}
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (apt-get install openssl): testssl.sh needs it")
	}
	dir := t.TempDir()
	auditPKI(t, dir)
	for _, engine := range []string{"io_uring", "netpoll"} {
		t.Run(engine, func(t *testing.T) {
			if _, err := uring.Probe(); err != nil && engine == "io_uring" {
				t.Skipf("io_uring unavailable here: %v", err)
			}
			t.Parallel() // testssl.sh mostly waits on its own openssl processes
			s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-engine", engine,
				"-tls-cert", filepath.Join(dir, "leaf.pem"), "-tls-key", filepath.Join(dir, "leaf.key"))
			findings := runTestssl(t, bin, openssl, filepath.Join(dir, "ca.pem"), s.addr)

			byID := map[string]testsslFinding{}
			var bad []string
			for _, f := range findings {
				byID[f.ID] = f
				if f.Severity == "HIGH" || f.Severity == "CRITICAL" || f.Severity == "FATAL" {
					bad = append(bad, f.Severity+" "+f.ID+": "+f.Finding)
				}
			}
			assert.Empty(t, bad, "testssl.sh findings of severity HIGH or CRITICAL")
			for _, id := range []string{"SSLv2", "SSLv3", "TLS1", "TLS1_1"} {
				require.Contains(t, byID, id, "testssl.sh did not test %s", id)
				assert.True(t, strings.HasPrefix(byID[id].Finding, "not offered"), "%s: %s", id, byID[id].Finding)
			}
			for _, id := range []string{"TLS1_2", "TLS1_3"} {
				require.Contains(t, byID, id, "testssl.sh did not test %s", id)
				assert.True(t, strings.HasPrefix(byID[id].Finding, "offered"), "%s: %s", id, byID[id].Finding)
			}
			// The scan got as far as the vulnerability checks.
			for _, id := range []string{"heartbleed", "CCS", "ticketbleed", "secure_client_renego", "BREACH", "LUCKY13"} {
				assert.Contains(t, byID, id, "testssl.sh did not report %s", id)
			}
		})
	}
}

// testsslFinding is one entry of testssl.sh's flat JSON (--jsonfile).
type testsslFinding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

// runTestssl scans addr and returns testssl.sh's findings.
func runTestssl(t *testing.T, bin, openssl, ca, addr string) []testsslFinding {
	jsonPath := filepath.Join(t.TempDir(), "testssl.json")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--quiet", "--color", "0", "--warnings", "off", "--openssl", openssl,
		"--add-ca", ca, "--jsonfile", jsonPath, "-p", "-S", "-s", "-f", "-P", "-U", addr)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("testssl.sh took %v (exit: %v)", time.Since(start).Round(time.Second), err)
	require.NoError(t, ctx.Err(), "testssl.sh did not finish:\n%s", out)
	raw, rerr := os.ReadFile(jsonPath)
	require.NoError(t, rerr, "testssl.sh wrote no JSON:\n%s", out)
	var findings []testsslFinding
	require.NoError(t, json.Unmarshal(raw, &findings), "%s", raw)
	if t.Failed() || testing.Verbose() {
		t.Logf("testssl.sh output:\n%s", out)
	}
	return findings
}

// auditPKI writes ca.pem and leaf.pem/leaf.key (ECDSA P-256 for
// localhost and 127.0.0.1) into dir.
func auditPKI(t *testing.T, dir string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "uringd testssl CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(300 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		CRLDistributionPoints: []string{"http://crl.invalid/uringd-test-ca.crl"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	write := func(name, typ string, b []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("leaf.pem", "CERTIFICATE", der)
	write("leaf.key", "PRIVATE KEY", kder)
}

package tlsrecord

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests use curl and openssl (Debian packages curl, openssl) as the
// other real TLS stacks; they skip when the tool is missing.

func needTool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s)", name, name)
	}
	return p
}

func writeCA(t *testing.T, pki *testPKI) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.ca.Raw}), 0o600))
	return path
}

// httpApp answers each request head with the connection's cipher suite name.
func httpApp(c *Conn, data, out []byte) []byte {
	if !bytes.Contains(data, []byte("\r\n\r\n")) {
		return out
	}
	body := tls.CipherSuiteName(c.Suite())
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	out, _ = c.Seal(out, []byte(resp))
	return out
}

func TestCurlEverySuite(t *testing.T) {
	curl := needTool(t, "curl")
	f := newFixture(t)
	ca := writeCA(t, f.pki)
	a := NewAcceptor(f.server, 0)
	for _, id := range allSuites {
		name := tls.CipherSuiteName(id)
		t.Run(name, func(t *testing.T) {
			addr, done := startServer(t, &testLoop{a: a, app: httpApp})
			port := addr[strings.LastIndexByte(addr, ':')+1:]
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, curl, "-sS", "--http1.1", "--tlsv1.3", "--tls13-ciphers", name,
				"--cacert", ca, "--resolve", "a.test:"+port+":127.0.0.1", "https://a.test:"+port+"/").CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Equal(t, name, string(out))
			s := wait(t, done)
			require.True(t, s.res.Record)
			require.Equal(t, id, s.res.State.CipherSuite)
			require.Equal(t, "http/1.1", s.res.State.NegotiatedProtocol)
		})
	}
}

// TestOpenSSLKeyUpdate has openssl s_client send a KeyUpdate with
// update_requested (its "K" command) mid-connection: the server must move
// its read key, answer with its own KeyUpdate, and keep echoing under the
// new keys both ways.
func TestOpenSSLKeyUpdate(t *testing.T) {
	openssl := needTool(t, "openssl")
	for _, id := range allSuites {
		name := tls.CipherSuiteName(id)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", addr, "-servername", "a.test",
				"-CAfile", writeCA(t, f.pki), "-verify_return_error", "-tls1_3", "-ciphersuites", name, "-alpn", "http/1.1")
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			// One pipe for both: s_client reports KEYUPDATE on stderr.
			stdout, w, err := os.Pipe()
			require.NoError(t, err)
			defer stdout.Close()
			cmd.Stdout, cmd.Stderr = w, w
			require.NoError(t, cmd.Start())
			require.NoError(t, w.Close())
			lines := bufio.NewScanner(stdout)
			waitLine := func(want string) {
				t.Helper()
				for lines.Scan() {
					if lines.Text() == want {
						return
					}
				}
				select {
				case s := <-done:
					t.Logf("server: %v %v", s.err, s.serveErr)
				default:
				}
				t.Fatalf("openssl output ended before %q", want)
			}
			_, err = io.WriteString(stdin, "before\n")
			require.NoError(t, err)
			waitLine("before")
			_, err = io.WriteString(stdin, "K\n") // KeyUpdate, update_requested
			require.NoError(t, err)
			waitLine("KEYUPDATE") // or s_client may read the next line with the command and drop it
			_, err = io.WriteString(stdin, "after\n")
			require.NoError(t, err)
			waitLine("after")
			require.NoError(t, stdin.Close()) // s_client sends close_notify and quits
			_, _ = io.Copy(io.Discard, stdout)
			require.NoError(t, cmd.Wait())
			s := wait(t, done)
			require.True(t, s.res.Record)
			require.Equal(t, id, s.res.State.CipherSuite)
			require.NotEqual(t, s.res.Params.ReadSecret, s.conn.in.secret[:s.conn.in.secretLen], "read key updated")
			require.NotEqual(t, s.res.Params.WriteSecret, s.conn.out.secret[:s.conn.out.secretLen], "answered with our own KeyUpdate")
		})
	}
}

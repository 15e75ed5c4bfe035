package uringd_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "unsafe" // go:linkname

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/internal/ktls"
	"github.com/uringd/uringd/static"
)

// Kernel TLS (worker/ktls.go) against crypto/tls clients. These tests need
// a kernel with the tls module; they skip without one, except where
// URINGD_REQUIRE_KTLS=1 (scripts/vmtest.sh sets it in the 6.1 guest, which
// loads tls.ko): there a missing kTLS is a failure.

// crypto/tls ignores Config.CipherSuites for TLS 1.3 and negotiates from
// these lists (linkname-visible by design, go.dev/issue/67401); see
// tlsrecord's suitehook_test.go.
//
//go:linkname defaultCipherSuitesTLS13 crypto/tls.defaultCipherSuitesTLS13
var defaultCipherSuitesTLS13 []uint16

//go:linkname defaultCipherSuitesTLS13NoAES crypto/tls.defaultCipherSuitesTLS13NoAES
var defaultCipherSuitesTLS13NoAES []uint16

var suiteMu sync.Mutex

// forceSuite makes crypto/tls (client and server) negotiate only suite
// until the test ends.
func forceSuite(t testing.TB, suite uint16) {
	suiteMu.Lock()
	a, b := defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES
	defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES = []uint16{suite}, []uint16{suite}
	t.Cleanup(func() {
		defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES = a, b
		suiteMu.Unlock()
	})
}

// requireKTLS skips (or, with URINGD_REQUIRE_KTLS=1, fails) where the
// kernel has no kernel TLS.
func requireKTLS(t *testing.T) {
	t.Helper()
	p := ktls.Available()
	if len(p.Suites) == 3 {
		return
	}
	why := p.Why
	if why == "" {
		why = "the kernel takes only some TLS 1.3 suites"
	}
	if os.Getenv("URINGD_REQUIRE_KTLS") == "1" {
		t.Fatalf("kernel TLS required (URINGD_REQUIRE_KTLS=1) but unavailable: %s", why)
	}
	t.Skipf("no kernel TLS here: %s", why)
}

// forEachKTLSMode runs fn in each io_uring mode (the netpoll engine has
// no kernel TLS) with a TLS config without session tickets unless the
// test sets its own.
func forEachKTLSMode(t *testing.T, fn func(t *testing.T, cfg uringd.Config)) {
	requireKTLS(t)
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		if cfg.Engine != uringd.EngineIOUring {
			t.Skip("kernel TLS is the io_uring engine's")
		}
		fn(t, cfg)
	})
}

// ktlsConns waits until s has handed n connections to kernel TLS.
func ktlsConns(t *testing.T, s *uringd.Server, n uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return s.Stats().Total.KTLSConns == n }, 15*time.Second, 5*time.Millisecond,
		"connections on kernel TLS: %d, want %d", s.Stats().Total.KTLSConns, n)
}

var hugeBody = bytes.Repeat([]byte("kernel TLS 1 MiB+ "), (2<<20)/18) // about 2 MiB

// TestKTLSSuites: with each TLS 1.3 suite, a keep-alive connection's
// requests (a hello, an echoed body, a response of 2 MiB) are answered
// through kernel TLS: one connection, handed to the kernel.
func TestKTLSSuites(t *testing.T) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256} {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
				forceSuite(t, suite)
				s := startTLSServer(t, cfg, func(s *uringd.Server) {
					s.HandleFunc("GET /huge", func(w *uringd.Response, r *uringd.Request) { w.Write(hugeBody) })
				})
				hc := httpsClient(t, nil)
				base := "https://localhost:" + port(s)
				for i := 0; i < 3; i++ {
					code, body, st := getTLS(t, hc, base+"/")
					require.Equal(t, 200, code)
					require.Equal(t, "Hello, World!", body)
					require.Equal(t, suite, st.CipherSuite)
				}
				up := strings.Repeat("echo me ", 32<<10) // 256 KiB
				resp, err := hc.Post(base+"/echo", "text/plain", strings.NewReader(up))
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.True(t, string(got) == up, "the echoed body")
				_, body, _ := getTLS(t, hc, base+"/huge")
				require.True(t, body == string(hugeBody), "the 2 MiB response: %d bytes", len(body))
				ktlsConns(t, s, 1) // keep-alive: all of it on one connection
				assert.Contains(t, s.TLSRecordPath(), "kernel TLS (kTLS)", "the startup line's record path")
			})
		})
	}
}

func getTLS(t *testing.T, hc *http.Client, url string) (int, string, *tls.ConnectionState) {
	t.Helper()
	resp, err := hc.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.TLS
}

// TestKTLSStaticSendfile: a large static file goes out with sendfile(2)
// under kernel TLS (refused on the userland record path), and arrives
// whole and decrypted.
func TestKTLSStaticSendfile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644))
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		h, err := static.New(static.Config{Root: dir, Prefix: "/static/"})
		require.NoError(t, err)
		t.Cleanup(func() { h.Close() })
		s := startTLSServer(t, cfg, h.Mount)
		hc := httpsClient(t, nil)
		// The first request may be answered before the connection is
		// handed to the kernel (it can come with the handshake's end).
		code, _, _ := getTLS(t, hc, "https://localhost:"+port(s)+"/")
		require.Equal(t, 200, code)
		ktlsConns(t, s, 1)
		for i := 0; i < 2; i++ {
			code, body, _ := getTLS(t, hc, "https://localhost:"+port(s)+"/static/big.bin")
			require.Equal(t, 200, code)
			require.True(t, body == string(data), "the file, decrypted (%d bytes)", len(body))
		}
		require.Eventually(t, func() bool { return s.Stats().Total.FileBytesOut == uint64(2*len(data)) }, 10*time.Second,
			5*time.Millisecond, "sent with sendfile: %d", s.Stats().Total.FileBytesOut)
		ktlsConns(t, s, 1)
	})
}

// TestKTLSCloseNotify: the client's close_notify ends the connection
// cleanly (the server answers with its own and closes: no hang, no
// reset); and a response with Connection: close is followed by the
// server's close_notify, sent by the kernel as an alert record.
func TestKTLSCloseNotify(t *testing.T) {
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)

		c := dialRawTLS(t, s)
		rc := tlsRaw(t, c.Conn)
		rc.send(helloReq)
		_, body := rc.response("GET")
		require.Equal(t, "Hello, World!", body)
		ktlsConns(t, s, 1)
		require.NoError(t, c.CloseWrite()) // close_notify
		rest, err := io.ReadAll(c)
		require.NoError(t, err, "the server's close_notify, then EOF")
		assert.Empty(t, rest)
		assertLastRecordCloseNotify(t, c.tcp)

		c2 := dialRawTLS(t, s)
		rc2 := tlsRaw(t, c2.Conn)
		rc2.send(helloReq) // may be answered before the hand-over
		_, body = rc2.response("GET")
		require.Equal(t, "Hello, World!", body)
		ktlsConns(t, s, 2)
		_, err = c2.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		out, err := io.ReadAll(rc2.br)
		require.NoError(t, err, "a clean end")
		assert.Contains(t, string(out), "Hello, World!")
		assertLastRecordCloseNotify(t, c2.tcp)
	})
}

// assertLastRecordCloseNotify: the raw input ends on a whole record of 19
// bytes of protected content (an alert: 2 bytes, its type, the tag).
func assertLastRecordCloseNotify(t *testing.T, rc *recConn) {
	t.Helper()
	rc.mu.Lock()
	raw := rc.got
	rc.mu.Unlock()
	var last []byte
	for len(raw) >= 5 {
		n := 5 + (int(raw[3])<<8 | int(raw[4]))
		require.LessOrEqual(t, n, len(raw))
		last, raw = raw[:n], raw[n:]
	}
	require.Empty(t, raw, "a partial record at the end")
	assert.Equal(t, 5+19, len(last), "the last record is a close_notify")
}

// TestKTLSKeyUpdate: Linux 6.1 cannot rekey a kernel TLS receive side, so
// a client's KeyUpdate ends the connection cleanly: what it asked before
// is answered, then the server's close_notify and EOF; it does not hang.
func TestKTLSKeyUpdate(t *testing.T) {
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.TLS = tlsServerConfig(t)
		cfg.TLS.SessionTicketsDisabled = true // newTLSClient's sequence numbers start at 0
		s := startTLSServer(t, cfg, nil)
		c := newTLSClient(t, s, helloReq, "Hello, World!")
		c.roundTrip(t)
		ktlsConns(t, s, 1)
		ku, err := c.rec.AppendKeyUpdate(nil, false)
		require.NoError(t, err)
		_, err = c.nc.Write(ku)
		require.NoError(t, err)
		c.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
		raw, err := io.ReadAll(c.nc)
		require.NoError(t, err, "closed, not reset, not hung")
		data, n, err := c.rec.Open(raw)
		assert.Equal(t, io.EOF, err, "the server's close_notify")
		assert.Zero(t, n)
		assert.Empty(t, data)
	})
}

// holdConn holds every write after the first (the ClientHello) until
// flush, so that the client's Finished and its first request record reach
// the server in one segment: bytes beyond the handshake that the
// handshake's reader took, which the loop must open itself before the
// kernel takes over (or, when they end inside a record, keep the
// connection on the userland path).
type holdConn struct {
	net.Conn
	writes int
	held   []byte
	pass   bool // flushed: writes go straight out
}

func (h *holdConn) Write(p []byte) (int, error) {
	h.writes++
	if h.writes == 1 || h.pass {
		return h.Conn.Write(p)
	}
	h.held = append(h.held, p...)
	return len(p), nil
}

func (h *holdConn) flush(n int) error {
	n = min(n, len(h.held))
	_, err := h.Conn.Write(h.held[:n])
	h.held = h.held[n:]
	return err
}

// TestKTLSLeftover: the first request arriving with the handshake's last
// flight is answered, and so are the next ones on the same connection;
// likewise when that flight ends in the middle of the request's record.
func TestKTLSLeftover(t *testing.T) {
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		for _, split := range []bool{false, true} {
			nc, err := net.Dial("tcp", s.Addr().String())
			require.NoError(t, err)
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			hc := &holdConn{Conn: nc}
			c := tls.Client(hc, tlsClientConfig())
			require.NoError(t, c.Handshake())
			_, err = c.Write([]byte(helloReq)) // held too
			require.NoError(t, err)
			if split { // the server may read the part alone or both together: either is correct
				require.NoError(t, hc.flush(len(hc.held)-10))
			}
			require.NoError(t, hc.flush(len(hc.held)))
			hc.pass = true
			rc := tlsRaw(t, c)
			_, body := rc.response("GET")
			require.Equal(t, "Hello, World!", body, "split %v", split)
			for i := 0; i < 3; i++ {
				rc.send(helloReq)
				_, body := rc.response("GET")
				require.Equal(t, "Hello, World!", body, "split %v", split)
			}
			if !split {
				ktlsConns(t, s, 1) // the request opened in userland, the connection then handed over
			}
		}
	})
}

// TestKTLSDisabled: Config.DisableKTLS keeps connections on the userland
// record layer.
func TestKTLSDisabled(t *testing.T) {
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DisableKTLS = true
		s := startTLSServer(t, cfg, nil)
		code, body, _ := getTLS(t, httpsClient(t, nil), "https://localhost:"+port(s)+"/")
		require.Equal(t, 200, code)
		require.Equal(t, "Hello, World!", body)
		assert.Zero(t, s.Stats().Total.KTLSConns)
		assert.Contains(t, s.TLSRecordPath(), "kTLS disabled")
	})
}

// TestKTLSBadRecord: a record that fails to authenticate (the kernel
// refuses it: EBADMSG) closes the connection; no plaintext comes back.
func TestKTLSBadRecord(t *testing.T) {
	forEachKTLSMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		c := dialRawTLS(t, s)
		rc := tlsRaw(t, c.Conn)
		rc.send(helloReq)
		_, body := rc.response("GET")
		require.Equal(t, "Hello, World!", body)
		ktlsConns(t, s, 1)
		_, err := c.tcp.Conn.Write(append([]byte{0x17, 3, 3, 0, 40}, bytes.Repeat([]byte{0xaa}, 40)...))
		require.NoError(t, err)
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		var out bytes.Buffer
		_, err = io.Copy(&out, rc.br)
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the server did not close the connection")
		assert.Zero(t, out.Len(), "no plaintext after a bad record")
		require.Eventually(t, func() bool { return s.Stats().Total.Open == 0 }, 15*time.Second, 5*time.Millisecond)
	})
}

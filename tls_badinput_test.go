package uringd_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// readUntilClosed reads c until the server closes it (EOF or reset) and
// returns what came; it fails on a timeout (the server did not close).
func readUntilClosed(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	var got bytes.Buffer
	_, err := io.Copy(&got, c)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server did not close the connection")
	return got.Bytes()
}

// TestTLSGarbage: bytes that are no ClientHello get at most an alert and a
// close.
func TestTLSGarbage(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		for _, junk := range [][]byte{
			{0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5},                // a handshake record that is no ClientHello
			bytes.Repeat([]byte{0}, 64),                                  // zeros
			{0x17, 0x03, 0x03, 0x40, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00}, // application data before a handshake
		} {
			c := dial(t, s)
			_, err := c.Write(junk)
			require.NoError(t, err)
			got := readUntilClosed(t, c.Conn)
			if len(got) > 0 {
				assert.Equal(t, byte(21), got[0], "only an alert record may come back: %q", got)
			}
		}
		code, body, _ := get(t, httpsClient(t, nil), "https://127.0.0.1:"+port(s)+"/")
		assert.Equal(t, 200, code)
		assert.Equal(t, "Hello, World!", body)
	})
}

// TestTLSPlainHTTP: a cleartext request on the TLS port gets a cleartext
// 400 and a close, as nginx and net/http answer.
func TestTLSPlainHTTP(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		c := dial(t, s)
		c.send(helloReq)
		resp, body := c.response("GET")
		assert.Equal(t, 400, resp.StatusCode)
		assert.Contains(t, body, "HTTP request to an HTTPS server")
		c.expectClosed()
	})
}

// clientHello is the first flight of a crypto/tls client: its ClientHello
// record, for clients that start a handshake and never finish it.
func clientHello(t *testing.T) []byte {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Client(a, tlsClientConfig()).Handshake()
	hdr := make([]byte, 5)
	_, err := io.ReadFull(b, hdr)
	require.NoError(t, err)
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	_, err = io.ReadFull(b, body)
	require.NoError(t, err)
	return append(hdr, body...)
}

// TestTLSHandshakeFlood: with 500 clients stopped mid-handshake (their
// ClientHello sent, nothing after; some over the handshake bound) and more
// that vanish after half a ClientHello, an established TLS connection keeps
// being answered, and a new client still gets through once they are gone.
func TestTLSHandshakeFlood(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxHandshakesPerWorker = 200 // 2 workers: some of the 500 are over it
		s := startTLSServer(t, cfg, nil)
		c := dialTLS(t, s, nil)
		rc := tlsRaw(t, c)
		rc.send(helloReq)
		_, body := rc.response("GET")
		require.Equal(t, "Hello, World!", body)

		hello := clientHello(t)
		var flood []net.Conn
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 500; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fc, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					return
				}
				if i%5 == 0 {
					fc.Write(hello[:len(hello)/2]) // vanishes mid-ClientHello
					fc.Close()
					return
				}
				fc.Write(hello)
				mu.Lock()
				flood = append(flood, fc)
				mu.Unlock()
			}()
			if i%50 == 0 { // meanwhile the established connection is served
				rc.send(helloReq)
				_, body := rc.response("GET")
				require.Equal(t, "Hello, World!", body)
			}
		}
		wg.Wait()
		for i := 0; i < 20; i++ {
			rc.send(helloReq)
			_, body := rc.response("GET")
			require.Equal(t, "Hello, World!", body)
		}
		for _, fc := range flood {
			fc.Close()
		}
		require.Eventually(t, func() bool {
			cc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr().String(), tlsClientConfig())
			if err != nil {
				return false
			}
			cc.Close()
			return true
		}, 15*time.Second, 50*time.Millisecond, "a new client after the flood")
		require.Eventually(t, func() bool { return s.Stats().Total.Open <= 2 }, 15*time.Second, 20*time.Millisecond,
			"the flood's connections are closed")
	})
}

// rawTLS is a client TLS connection whose underlying TCP connection the
// test also writes to and whose raw input it records.
type rawTLS struct {
	*tls.Conn
	tcp *recConn
}

type recConn struct {
	net.Conn
	mu  sync.Mutex
	got []byte
}

func (r *recConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.got = append(r.got, p[:n]...)
	r.mu.Unlock()
	return n, err
}

func dialRawTLS(t *testing.T, s *uringd.Server) *rawTLS {
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	rc := &recConn{Conn: nc}
	c := tls.Client(rc, tlsClientConfig())
	require.NoError(t, c.Handshake())
	return &rawTLS{Conn: c, tcp: rc}
}

// TestTLSBadRecords: after the handshake, an oversized record gets
// record_overflow and a corrupted one bad_record_mac, then a close.
func TestTLSBadRecords(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DisableKTLS = true // the userland record layer's alerts; kernel TLS sends none
		s := startTLSServer(t, cfg, nil)
		for _, tc := range []struct {
			name, alert string
			rec         []byte
		}{
			{"oversized", "record overflow", append([]byte{0x17, 3, 3, 0x41, 0x01}, make([]byte, 64)...)},
			{"corrupted", "bad record MAC", append([]byte{0x17, 3, 3, 0, 40}, bytes.Repeat([]byte{0xaa}, 40)...)},
		} {
			c := dialRawTLS(t, s)
			rc := tlsRaw(t, c.Conn)
			rc.send(helloReq) // a good record first
			_, body := rc.response("GET")
			require.Equal(t, "Hello, World!", body)
			_, err := c.tcp.Conn.Write(tc.rec)
			require.NoError(t, err)
			var out bytes.Buffer
			_, err = io.Copy(&out, rc.br)
			require.Error(t, err, tc.name)
			assert.Contains(t, err.Error(), tc.alert, tc.name)
			assert.Zero(t, out.Len(), "%s: nothing but the alert", tc.name)
		}
	})
}

// TestTLSCloseNotify: a response that closes the connection is followed by
// the server's close_notify: the last record before the EOF is an alert
// (19 bytes of protected content), not data.
func TestTLSCloseNotify(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		c := dialRawTLS(t, s)
		_, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		var out bytes.Buffer
		_, err = io.Copy(&out, c)
		require.NoError(t, err, "a clean end (close_notify or EOF)")
		assert.Contains(t, out.String(), "Hello, World!")
		raw := c.tcp.got
		var last []byte
		for len(raw) >= 5 {
			n := 5 + (int(raw[3])<<8 | int(raw[4]))
			require.LessOrEqual(t, n, len(raw))
			last, raw = raw[:n], raw[n:]
		}
		require.Empty(t, raw, "a partial record at the end")
		assert.Equal(t, 5+19, len(last), "the last record is a close_notify")
	})
}

// TestTLSHandshakeTimeoutAndBound: a client that sends its ClientHello and
// stops is closed after HandshakeTimeout; with one handshake allowed per
// worker, a second client meanwhile is closed at once, and once the first
// is gone a new client gets through.
func TestTLSHandshakeTimeoutAndBound(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		cfg.MaxHandshakesPerWorker = 1
		cfg.HandshakeTimeout = 300 * time.Millisecond
		s := startTLSServer(t, cfg, nil)
		hello := clientHello(t)
		stalled := dial(t, s)
		_, err := stalled.Write(hello)
		require.NoError(t, err)
		// The server's first flight comes; then nothing, as the client says nothing.
		stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
		first := make([]byte, 1)
		_, err = io.ReadFull(stalled, first)
		require.NoError(t, err)
		require.Equal(t, byte(22), first[0], "a handshake record")

		over := dial(t, s)
		over.Write(hello)
		got := readUntilClosed(t, over.Conn)
		assert.NotContains(t, string(got), "Hello", "over the bound: closed")

		readUntilClosed(t, stalled.Conn) // the handshake timeout closes it
		require.Eventually(t, func() bool {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr().String(), tlsClientConfig())
			if err != nil {
				return false
			}
			c.Close()
			return true
		}, 10*time.Second, 20*time.Millisecond)
	})
}

// TestTLSIdleTimeout: an idle keep-alive TLS connection is closed after
// IdleTimeout, over TLS 1.3 (the worker's timer) and TLS 1.2 (on io_uring,
// the goroutine's deadline on the worker's transport).
func TestTLSIdleTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.IdleTimeout = 200 * time.Millisecond
		s := startTLSServer(t, cfg, nil)
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			cc := tlsClientConfig()
			cc.MaxVersion = v
			c := dialTLS(t, s, cc)
			rc := tlsRaw(t, c)
			rc.send(helloReq)
			_, body := rc.response("GET")
			require.Equal(t, "Hello, World!", body)
			got := readUntilClosed(t, c)
			assert.Empty(t, got, tls.VersionName(v))
		}
	})
}

package tlsrecord

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fixture struct {
	pki    *testPKI
	server *tls.Config
	client *tls.Config
}

func newFixture(t *testing.T) *fixture {
	pki := newPKI(t)
	return &fixture{
		pki: pki,
		server: &tls.Config{
			Certificates: []tls.Certificate{pki.leaf(t, "a", false, "a.test")},
			NextProtos:   []string{"http/1.1"},
		},
		client: &tls.Config{RootCAs: pki.pool, ServerName: "a.test", NextProtos: []string{"http/1.1"}},
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// closeAndCheck has the client send close_notify and checks the server's
// record layer answered with its own (the client then reads io.EOF).
func closeAndCheck(t *testing.T, c *tls.Conn, done <-chan served) served {
	t.Helper()
	require.NoError(t, c.CloseWrite())
	s := wait(t, done)
	require.ErrorIs(t, s.serveErr, io.EOF)
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "server's close_notify")
	return s
}

func TestRecordPathServesEverySuite(t *testing.T) {
	for _, id := range allSuites {
		t.Run(tls.CipherSuiteName(id), func(t *testing.T) {
			forceSuite(t, id)
			f := newFixture(t)
			addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
			c, err := dialTLS(t, addr, f.client)
			require.NoError(t, err)
			st := c.ConnectionState()
			require.Equal(t, id, st.CipherSuite)
			require.Equal(t, "http/1.1", st.NegotiatedProtocol)
			for _, n := range []int{1, 100, MaxPlaintext - 1, MaxPlaintext, MaxPlaintext + 1, 100 << 10} {
				echo(t, c, randomBytes(n))
			}
			s := closeAndCheck(t, c, done)
			require.True(t, s.res.Record, s.res.Why)
			assert.Equal(t, id, s.res.State.CipherSuite)
			assert.Equal(t, "http/1.1", s.res.State.NegotiatedProtocol)
			assert.Equal(t, "a.test", s.res.State.ServerName)
			assert.Equal(t, uint16(tls.VersionTLS13), s.res.State.Version)
			// Without a session cache the client offers no PSK modes, so
			// crypto/tls sends no ticket: nothing under the application keys.
			assert.Equal(t, uint64(0), s.res.Params.WriteSeq)
			assert.Equal(t, uint64(0), s.res.Params.ReadSeq)
		})
	}
}

// TestLeftoverBytesAreHandedBack sends application data in the same write as
// the client's Finished, so it reaches the server before the hand-off.
func TestLeftoverBytesAreHandedBack(t *testing.T) {
	f := newFixture(t)
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	// Hold the client's writes until the request is sealed too, then send
	// both in one segment.
	hold := &holdConn{Conn: nc}
	c := tls.Client(hold, f.client)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	hold.holding = true
	require.NoError(t, c.Handshake())
	msg := []byte("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
	_, err = c.Write(msg)
	require.NoError(t, err)
	require.NoError(t, hold.release())
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, msg, got)
	s := closeAndCheck(t, c, done)
	require.True(t, s.res.Record)
	require.NotEmpty(t, s.res.Leftover, "the request arrived with the Finished")
}

// holdConn buffers writes while holding, so the test controls segments.
type holdConn struct {
	net.Conn
	holding bool
	held    []byte
}

func (h *holdConn) Write(p []byte) (int, error) {
	if h.holding && len(h.held) == 0 && p[0] == 22 {
		// The ClientHello goes out at once, or no handshake happens.
		return h.Conn.Write(p)
	}
	if h.holding {
		h.held = append(h.held, p...)
		return len(p), nil
	}
	return h.Conn.Write(p)
}

func (h *holdConn) release() error {
	h.holding = false
	_, err := h.Conn.Write(h.held)
	return err
}

func TestSessionResumption(t *testing.T) {
	f := newFixture(t)
	a := NewAcceptor(f.server, 0)
	f.client.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i, resumed := range []bool{false, true} {
		addr, done := startServer(t, &testLoop{a: a, app: echoApp})
		c, err := dialTLS(t, addr, f.client)
		require.NoError(t, err)
		echo(t, c, []byte("hello")) // the client reads the ticket on the way
		require.Equal(t, resumed, c.ConnectionState().DidResume, "connection %d", i)
		s := closeAndCheck(t, c, done)
		require.True(t, s.res.Record)
		require.Equal(t, resumed, s.res.State.DidResume)
		// One NewSessionTicket went out under the application key.
		require.Equal(t, uint64(1), s.res.Params.WriteSeq)
	}
}

func TestSNIChoosesBetweenTwoCertificates(t *testing.T) {
	f := newFixture(t)
	f.server.Certificates = append(f.server.Certificates, f.pki.leaf(t, "b", false, "b.test"))
	a := NewAcceptor(f.server, 0)
	for _, name := range []string{"a.test", "b.test"} {
		addr, done := startServer(t, &testLoop{a: a, app: echoApp})
		cfg := f.client.Clone()
		cfg.ServerName = name
		c, err := dialTLS(t, addr, cfg)
		require.NoError(t, err) // verified against name
		require.Equal(t, []string{name}, c.ConnectionState().PeerCertificates[0].DNSNames)
		echo(t, c, []byte(name))
		s := closeAndCheck(t, c, done)
		require.Equal(t, name, s.res.State.ServerName)
	}
}

func TestClientCertificateRequired(t *testing.T) {
	f := newFixture(t)
	f.server.ClientAuth = tls.RequireAndVerifyClientCert
	f.server.ClientCAs = f.pki.pool
	a := NewAcceptor(f.server, 0)

	t.Run("presented", func(t *testing.T) {
		addr, done := startServer(t, &testLoop{a: a, app: echoApp})
		cfg := f.client.Clone()
		cfg.Certificates = []tls.Certificate{f.pki.leaf(t, "client-1", true)}
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1) // so a ticket is sent
		c, err := dialTLS(t, addr, cfg)
		require.NoError(t, err)
		// Tickets now follow the client's Finished: the sequence count must
		// still be right for this echo to work.
		echo(t, c, randomBytes(40<<10))
		s := closeAndCheck(t, c, done)
		require.True(t, s.res.Record)
		require.Equal(t, uint64(1), s.res.Params.WriteSeq, "the ticket sent after the client's Finished")
		require.Len(t, s.res.State.PeerCertificates, 1)
		require.Equal(t, "client-1", s.res.State.PeerCertificates[0].Subject.CommonName)
		require.Len(t, s.res.State.VerifiedChains, 1)
	})
	t.Run("missing", func(t *testing.T) {
		addr, done := startServer(t, &testLoop{a: a, app: echoApp})
		c, err := dialTLS(t, addr, f.client)
		if err == nil { // TLS 1.3: the client learns on its first read
			_, err = c.Read(make([]byte, 1))
		}
		require.Error(t, err)
		s := wait(t, done)
		require.Error(t, s.err)
		require.Contains(t, s.err.Error(), "certificate")
	})
}

func TestTLS12IsReportedForTheGoroutinePath(t *testing.T) {
	f := newFixture(t)
	f.client.MaxVersion = tls.VersionTLS12
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
	c, err := dialTLS(t, addr, f.client)
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS12), c.ConnectionState().Version)
	echo(t, c, randomBytes(70<<10)) // served by crypto/tls over the transport
	require.NoError(t, c.Close())
	s := wait(t, done)
	require.False(t, s.res.Record)
	require.Contains(t, s.res.Why, "TLS 1.2")
	require.NotNil(t, s.res.TLS)
}

func TestHandshakeTimesOut(t *testing.T) {
	f := newFixture(t)
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 50*time.Millisecond), app: echoApp})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte{22, 3, 1}) // the start of a ClientHello, then silence
	require.NoError(t, err)
	s := wait(t, done)
	require.ErrorIs(t, s.err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(s.err, &ne) && ne.Timeout())
}

func TestGarbageInsteadOfClientHello(t *testing.T) {
	f := newFixture(t)
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	s := wait(t, done)
	var rh tls.RecordHeaderError
	require.ErrorAs(t, s.err, &rh, "a caller can answer 400 in plaintext")
	require.Equal(t, "GET /", string(rh.RecordHeader[:]))
}

func TestClientVanishesMidHandshake(t *testing.T) {
	f := newFixture(t)
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = nc.Write([]byte{22, 3, 1, 0, 200, 1, 0})
	require.NoError(t, err)
	require.NoError(t, nc.Close())
	s := wait(t, done)
	require.ErrorIs(t, s.err, net.ErrClosed)
}

// TestKeyUpdateFromCryptoTLS has the server ask for a KeyUpdate: Go's client
// answers with its own, so the server reads a KeyUpdate crypto/tls wrote
// and must move its read key to go on.
func TestKeyUpdateFromCryptoTLS(t *testing.T) {
	f := newFixture(t)
	app := func(c *Conn, data, out []byte) []byte {
		if bytes.Equal(data, []byte("rekey")) {
			var err error
			if out, err = c.AppendKeyUpdate(out, true); err != nil {
				return out
			}
		}
		return echoApp(c, data, out)
	}
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: app})
	c, err := dialTLS(t, addr, f.client)
	require.NoError(t, err)
	echo(t, c, []byte("rekey")) // the client's reply KeyUpdate goes out on this read
	echo(t, c, []byte("after the update"))
	echo(t, c, randomBytes(20<<10))
	s := closeAndCheck(t, c, done)
	require.NotEqual(t, s.res.Params.ReadSecret, s.conn.in.secret[:s.conn.in.secretLen], "read key was updated")
	require.NotEqual(t, s.res.Params.WriteSecret, s.conn.out.secret[:s.conn.out.secretLen], "write key was updated")
}

// TestBadRecordAlertsTheClient flips a bit of the client's record in flight:
// the server answers bad_record_mac, which crypto/tls reports.
func TestBadRecordAlertsTheClient(t *testing.T) {
	f := newFixture(t)
	addr, done := startServer(t, &testLoop{
		a: NewAcceptor(f.server, 0), app: echoApp,
		tamper: func(p []byte) { p[len(p)-1] ^= 1 },
	})
	c, err := dialTLS(t, addr, f.client)
	require.NoError(t, err)
	_, err = c.Write([]byte("hello"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 5))
	require.ErrorContains(t, err, "bad record MAC")
	s := wait(t, done)
	require.ErrorIs(t, s.serveErr, AlertBadRecordMAC)
	_, err = s.conn.Seal(nil, []byte("never"))
	require.ErrorIs(t, err, AlertBadRecordMAC, "nothing is sealed after a failure")
}

// TestHelloRetryRequest makes the server ask for another key share, so
// the handshake has two ClientHellos and change_cipher_spec records before
// the keys the record layer takes over.
func TestHelloRetryRequest(t *testing.T) {
	f := newFixture(t)
	f.server.CurvePreferences = []tls.CurveID{tls.CurveP384}
	f.client.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP384} // a share for X25519 only
	addr, done := startServer(t, &testLoop{a: NewAcceptor(f.server, 0), app: echoApp})
	c, err := dialTLS(t, addr, f.client)
	require.NoError(t, err)
	require.Equal(t, tls.CurveP384, c.ConnectionState().CurveID)
	echo(t, c, []byte("after a retry"))
	s := closeAndCheck(t, c, done)
	require.True(t, s.res.Record)
	require.True(t, s.res.State.HelloRetryRequest)
}

// TestAbandonedHandshakesEnd starts handshakes that never get a byte and
// closes them: each goroutine must finish.
func TestAbandonedHandshakesEnd(t *testing.T) {
	f := newFixture(t)
	a := NewAcceptor(f.server, 0)
	hs := make([]*Handshake, 100)
	for i := range hs {
		hs[i] = a.Start(func() {}, nil, nil)
	}
	for _, h := range hs {
		h.Close()
	}
	for _, h := range hs {
		select {
		case <-h.DoneChan():
		case <-time.After(10 * time.Second):
			t.Fatal("handshake goroutine still running after Close")
		}
		_, err := h.Result()
		require.ErrorIs(t, err, net.ErrClosed)
		require.ErrorIs(t, h.Feed([]byte{1}), net.ErrClosed)
	}
}

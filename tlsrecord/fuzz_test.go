package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// cryptoTLSSender is a crypto/tls client after a real handshake with a
// crypto/tls server, whose later writes are captured instead of sent. Its
// KeyLogWriter gave the secret it protects them with: the oracle.
type cryptoTLSSender struct {
	c      *tls.Conn
	w      *captureConn
	secret []byte
	seq    uint64 // records it has written under secret
}

type captureConn struct {
	net.Conn
	capture bool
	buf     []byte
}

func (c *captureConn) Write(p []byte) (int, error) {
	if c.capture {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

var (
	sendersMu sync.Mutex
	senders   = map[uint16]*cryptoTLSSender{}
)

func senderFor(t *testing.T, id uint16) *cryptoTLSSender {
	sendersMu.Lock()
	defer sendersMu.Unlock()
	if s := senders[id]; s != nil {
		return s
	}
	forceSuite(t, id)
	pki := newPKI(t)
	a, b := net.Pipe()
	keys := &keyLog{}
	w := &captureConn{Conn: a}
	cli := tls.Client(w, &tls.Config{RootCAs: pki.pool, ServerName: "a.test", KeyLogWriter: keys})
	srv := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{pki.leaf(t, "a", false, "a.test")}})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-errc)
	require.Equal(t, id, cli.ConnectionState().CipherSuite)
	w.capture = true
	go func() { _ = srv.Close() }() // its close_notify is never read; Close unblocks on the pipe closing
	_ = b.Close()
	s := &cryptoTLSSender{c: cli, w: w, secret: keys.client}
	senders[id] = s
	return s
}

// write has crypto/tls seal p and returns its records and the sequence
// number of the first.
func (s *cryptoTLSSender) write(t *testing.T, p []byte) ([]byte, uint64) {
	s.w.buf = s.w.buf[:0]
	_, err := s.c.Write(p)
	require.NoError(t, err)
	first := s.seq
	for rest := s.w.buf; len(rest) >= HeaderLen; {
		rest = rest[HeaderLen+(int(rest[3])<<8|int(rest[4])):]
		s.seq++
	}
	return append([]byte(nil), s.w.buf...), first
}

// drain opens every whole record in buf and returns the data, the bytes
// not yet consumed, and the first error.
func drain(c *Conn, buf []byte) (data, rest []byte, err error) {
	for {
		d, n, err := c.Open(buf)
		data = append(data, d...)
		if err != nil || n == 0 {
			return data, buf, err
		}
		buf = buf[n:]
	}
}

// FuzzOpenCryptoTLS checks Open against crypto/tls: records a crypto/tls
// client writes decode to the plaintext it was given, whatever byte the
// receive buffer is split at; a record with any byte changed, or cut
// short, never yields its plaintext, and a failure stops sealing.
func FuzzOpenCryptoTLS(f *testing.F) {
	f.Add(uint8(0), []byte("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"), uint16(3), uint16(0), uint8(0), uint16(0))
	f.Add(uint8(1), bytes.Repeat([]byte("x"), 20000), uint16(16389), uint16(0), uint8(0), uint16(0))
	f.Add(uint8(2), []byte("hello"), uint16(0), uint16(7), uint8(1), uint16(0))
	f.Add(uint8(0), []byte("truncated"), uint16(9), uint16(0), uint8(0), uint16(1))
	f.Add(uint8(1), []byte("header"), uint16(1), uint16(3), uint8(0x40), uint16(0))
	f.Add(uint8(2), bytes.Repeat([]byte{0}, 3000), uint16(1500), uint16(2999), uint8(0x80), uint16(17))
	f.Fuzz(func(t *testing.T, suiteIdx uint8, payload []byte, split, corruptAt uint16, flip uint8, trunc uint16) {
		if len(payload) > 20<<10 { // past one full record; bigger only slows minimizing
			payload = payload[:20<<10]
		}
		id := allSuites[int(suiteIdx)%len(allSuites)]
		sender := senderFor(t, id)
		wire, seq := sender.write(t, payload)
		damaged := false
		if flip != 0 && len(wire) > 0 {
			wire[int(corruptAt)%len(wire)] ^= flip
			damaged = true
		}
		if cut := int(trunc) % (len(wire) + 1); cut > 0 {
			wire = wire[:len(wire)-cut]
			damaged = true
		}
		dec, err := NewConn(Params{Suite: id, ReadSecret: sender.secret, WriteSecret: sender.secret, ReadSeq: seq})
		require.NoError(t, err)

		k := int(split) % (len(wire) + 1)
		got, rest, err := drain(dec, append([]byte(nil), wire[:k]...))
		if err == nil {
			var more []byte
			more, rest, err = drain(dec, append(append([]byte(nil), rest...), wire[k:]...))
			got = append(got, more...)
		}
		if !damaged {
			require.NoError(t, err)
			require.Empty(t, rest)
			require.Equal(t, len(payload), len(got))
			require.True(t, bytes.Equal(payload, got))
			return
		}
		require.True(t, bytes.HasPrefix(payload, got), "only authentic records decode")
		require.Less(t, len(got), len(payload), "the damaged record's plaintext never comes out")
		if err != nil {
			require.ErrorAs(t, err, new(AlertError))
			out, serr := dec.Seal(nil, []byte("x"))
			require.Error(t, serr)
			require.Empty(t, out)
			require.NotEmpty(t, dec.AppendAlert(nil))
		}
	})
}

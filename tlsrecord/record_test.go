package tlsrecord

import (
	"crypto/tls"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// pair returns the two ends of one connection's record layer, with fresh
// random secrets: server reads what client seals and the other way round.
func pair(t testing.TB, id uint16) (server, client *Conn) {
	s := suiteByID(id)
	c2s, s2c := randomBytes(s.hashSz), randomBytes(s.hashSz)
	server, err := NewConn(Params{Suite: id, ReadSecret: c2s, WriteSecret: s2c, ReadSeq: 7, WriteSeq: 3})
	require.NoError(t, err)
	client, err = NewConn(Params{Suite: id, ReadSecret: s2c, WriteSecret: c2s, ReadSeq: 3, WriteSeq: 7})
	require.NoError(t, err)
	return server, client
}

// openAll opens every whole record in buf and returns the application data
// and the first error (nil if the records ran out or were incomplete).
func openAll(c *Conn, buf []byte) (data []byte, err error) {
	for {
		d, n, err := c.Open(buf)
		if err != nil || n == 0 {
			return data, err
		}
		data = append(data, d...)
		buf = buf[n:]
	}
}

func eachSuite(t *testing.T, f func(t *testing.T, id uint16)) {
	for _, id := range allSuites {
		t.Run(tls.CipherSuiteName(id), func(t *testing.T) { f(t, id) })
	}
}

func TestOpenNeedsTheWholeRecord(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		srv, cli := pair(t, id)
		rec, err := cli.Seal(nil, []byte("split me anywhere"))
		require.NoError(t, err)
		for i := 0; i < len(rec); i++ {
			part := append([]byte(nil), rec[:i]...)
			data, n, err := srv.Open(part)
			require.NoError(t, err, "prefix %d", i)
			require.Zero(t, n, "prefix %d", i)
			require.Nil(t, data)
		}
		data, n, err := srv.Open(rec)
		require.NoError(t, err)
		require.Equal(t, len(rec), n)
		require.Equal(t, "split me anywhere", string(data))
	})
}

func TestSealSplitsAt16KiB(t *testing.T) {
	srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
	msg := randomBytes(2*MaxPlaintext + 5)
	out, err := cli.Seal(nil, msg)
	require.NoError(t, err)
	require.Len(t, out, len(msg)+3*(Overhead))
	for _, want := range []int{MaxPlaintext, MaxPlaintext, 5} {
		d, n, err := srv.Open(out)
		require.NoError(t, err)
		require.Len(t, d, want)
		out = out[n:]
	}
	require.Empty(t, out)
}

func TestSealInPlace(t *testing.T) {
	srv, cli := pair(t, tls.TLS_CHACHA20_POLY1305_SHA256)
	buf := make([]byte, 3, 3+HeaderLen+100+Overhead)
	copy(buf, "abc")
	p := buf[3+HeaderLen : 3+HeaderLen+100]
	copy(p, []byte("the response the handler wrote where the record goes"))
	want := append([]byte(nil), p...)
	out, err := cli.Seal(buf, p)
	require.NoError(t, err)
	require.Equal(t, "abc", string(out[:3]))
	require.Equal(t, &buf[:1][0], &out[:1][0], "sealed in the same buffer")
	data, _, err := srv.Open(out[3:])
	require.NoError(t, err)
	require.Equal(t, want, data)
}

func TestOversizedRecordsGetRecordOverflow(t *testing.T) {
	t.Run("length field", func(t *testing.T) {
		srv, _ := pair(t, tls.TLS_AES_128_GCM_SHA256)
		hdr := []byte{typeApplicationData, 3, 3, byte((maxCiphertext + 1) >> 8), byte((maxCiphertext + 1) & 0xff)}
		_, _, err := srv.Open(hdr) // judged on the header alone
		require.ErrorIs(t, err, AlertRecordOverflow)
	})
	t.Run("plaintext", func(t *testing.T) {
		srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
		rec, err := cli.sealRecord(nil, typeApplicationData, randomBytes(MaxPlaintext+1))
		require.NoError(t, err)
		_, _, err = srv.Open(rec)
		require.ErrorIs(t, err, AlertRecordOverflow)
	})
}

func TestFailureIsStickyAndAlerted(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		srv, cli := pair(t, id)
		rec, err := cli.Seal(nil, []byte("hello"))
		require.NoError(t, err)
		for i := range rec {
			bad := append([]byte(nil), rec...)
			bad[i] ^= 0x80
			fresh := *srv // same keys and sequence; the AEADs are stateless
			data, n, err := fresh.Open(bad)
			require.Nil(t, data, "byte %d flipped", i)
			if err == nil { // a longer length field: still waiting for the rest
				require.Zero(t, n, "byte %d flipped", i)
				require.Contains(t, []int{3, 4}, i)
			}
		}
		rec[len(rec)-1] ^= 1
		_, _, err = srv.Open(rec)
		require.ErrorIs(t, err, AlertBadRecordMAC)
		_, _, err = srv.Open(rec)
		require.ErrorIs(t, err, AlertBadRecordMAC, "sticky")
		out, err := srv.Seal([]byte("kept"), []byte("secret"))
		require.ErrorIs(t, err, AlertBadRecordMAC)
		require.Equal(t, "kept", string(out), "no plaintext or record after a failure")
		require.Equal(t, "kept", string(srv.AppendCloseNotify(out)))
		alert := srv.AppendAlert(nil)
		require.NotEmpty(t, alert)
		require.Empty(t, srv.AppendAlert(nil), "one alert")
		_, _, err = cli.Open(alert)
		require.Equal(t, PeerAlertError(AlertBadRecordMAC), err)
	})
}

func TestCloseNotify(t *testing.T) {
	srv, cli := pair(t, tls.TLS_AES_256_GCM_SHA384)
	out, err := cli.Seal(nil, []byte("last words"))
	require.NoError(t, err)
	out = cli.AppendCloseNotify(out)
	_, err = cli.Seal(nil, []byte("more"))
	require.ErrorIs(t, err, ErrClosed)
	data, err := openAll(srv, out)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, "last words", string(data))
	_, _, err = srv.Open(nil)
	require.ErrorIs(t, err, io.EOF)
	// The server may still answer, then close its side.
	reply, err := srv.Seal(nil, []byte("bye"))
	require.NoError(t, err)
	reply = srv.AppendCloseNotify(reply)
	data, err = openAll(cli, reply)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, "bye", string(data))
}

func TestPeerRequestsKeyUpdate(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		srv, cli := pair(t, id)
		out, err := cli.AppendKeyUpdate(nil, true)
		require.NoError(t, err)
		out, err = cli.Seal(out, []byte("under the new key"))
		require.NoError(t, err)
		data, err := openAll(srv, out)
		require.NoError(t, err)
		require.Equal(t, "under the new key", string(data))
		require.True(t, srv.Pending())
		reply, err := srv.Seal(nil, []byte("answer"))
		require.NoError(t, err)
		require.False(t, srv.Pending())
		data, err = openAll(cli, reply)
		require.NoError(t, err)
		require.Equal(t, "answer", string(data))
		require.False(t, cli.Pending(), "update_not_requested asks nothing back")
		require.Equal(t, srv.out.secret, cli.in.secret)
		require.Equal(t, srv.in.secret, cli.out.secret)
	})
}

func TestKeyUpdateFragmentedAcrossRecords(t *testing.T) {
	srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
	ku := []byte{msgKeyUpdate, 0, 0, 1, 0}
	out, err := cli.sealRecord(nil, typeHandshake, ku[:2])
	require.NoError(t, err)
	out, err = cli.sealRecord(out, typeHandshake, ku[2:])
	require.NoError(t, err)
	require.NoError(t, cli.out.update(cli.suite))
	out, err = cli.Seal(out, []byte("ok"))
	require.NoError(t, err)
	data, err := openAll(srv, out)
	require.NoError(t, err)
	require.Equal(t, "ok", string(data))
}

func TestUnexpectedPostHandshakeMessages(t *testing.T) {
	cases := []struct {
		name string
		typ  byte
		body []byte
		want AlertError
	}{
		{"NewSessionTicket from the client", typeHandshake, []byte{msgNewSessionTicket, 0, 0, 0}, AlertUnexpectedMessage},
		{"KeyUpdate not ending its record", typeHandshake, []byte{msgKeyUpdate, 0, 0, 1, 0, msgKeyUpdate}, AlertUnexpectedMessage},
		{"KeyUpdate with a long body", typeHandshake, []byte{msgKeyUpdate, 0, 0, 2, 0, 0}, AlertDecodeError},
		{"KeyUpdate with a bad request", typeHandshake, []byte{msgKeyUpdate, 0, 0, 1, 2}, AlertIllegalParameter},
		{"empty handshake record", typeHandshake, nil, AlertUnexpectedMessage},
		{"short alert", typeAlert, []byte{2}, AlertUnexpectedMessage},
		{"inner change_cipher_spec", typeChangeCipherSpec, []byte{1}, AlertUnexpectedMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
			rec, err := cli.sealRecord(nil, tc.typ, tc.body)
			require.NoError(t, err)
			_, err = openAll(srv, rec)
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("all padding", func(t *testing.T) {
		srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
		rec, err := cli.sealRecord(nil, 0, []byte{0, 0})
		require.NoError(t, err)
		_, err = openAll(srv, rec)
		require.ErrorIs(t, err, AlertUnexpectedMessage)
	})
	t.Run("plaintext outer type", func(t *testing.T) {
		srv, _ := pair(t, tls.TLS_AES_128_GCM_SHA256)
		_, err := openAll(srv, []byte{typeChangeCipherSpec, 3, 3, 0, 1, 1})
		require.ErrorIs(t, err, AlertUnexpectedMessage)
	})
	t.Run("too many empty records", func(t *testing.T) {
		srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
		var out []byte
		for i := 0; i <= maxUselessRecords; i++ {
			var err error
			out, err = cli.sealRecord(out, typeApplicationData, nil)
			require.NoError(t, err)
		}
		_, err := openAll(srv, out)
		require.ErrorIs(t, err, AlertUnexpectedMessage)
	})
	t.Run("padding and user_canceled are fine", func(t *testing.T) {
		srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
		out, err := cli.sealRecord(nil, typeAlert, []byte{1, alertUserCanceled})
		require.NoError(t, err)
		out, err = cli.sealRecord(out, 0, []byte("padded\x17\x00\x00")) // inner type 23, then zeros
		require.NoError(t, err)
		data, err := openAll(srv, out)
		require.NoError(t, err)
		require.Equal(t, "padded", string(data))
	})
}

func TestSealAndOpenAllocateNothing(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		srv, cli := pair(t, id)
		msg := randomBytes(1024)
		out := make([]byte, 0, len(msg)+Overhead)
		buf := make([]byte, 0, len(msg)+Overhead)
		allocs := testing.AllocsPerRun(200, func() {
			out, _ = srv.Seal(out[:0], msg)
			buf = append(buf[:0], out...)
			d, n, err := cli.Open(buf)
			if err != nil || n != len(buf) || len(d) != len(msg) {
				panic("record did not round-trip")
			}
		})
		require.Zero(t, allocs)
	})
}

func TestSealRekeysBeforeTheAEADLimit(t *testing.T) {
	srv, cli := pair(t, tls.TLS_AES_128_GCM_SHA256)
	srv.out.seq, cli.in.seq = rekeyAfter-1, rekeyAfter-1
	out, err := srv.Seal(nil, []byte("last under key 0"))
	require.NoError(t, err)
	out, err = srv.Seal(out, []byte("first under key 1"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), srv.out.seq, "a KeyUpdate reset the sequence")
	data, err := openAll(cli, out)
	require.NoError(t, err)
	require.Equal(t, "last under key 0first under key 1", string(data))
	require.Equal(t, srv.out.secret, cli.in.secret)
	require.False(t, cli.Pending())
}

package tlsrecord

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// sealWith seals one application-data record as kernel TLS would from k:
// the nonce is the IV XOR the sequence number (RFC 8446 section 5.3).
func sealWith(t *testing.T, s *suite, k DirectionKeys, p []byte) []byte {
	aead, err := s.aead(k.Key)
	require.NoError(t, err)
	nonce := k.IV
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], k.Seq)
	for i := range seq {
		nonce[ivLen-8+i] ^= seq[i]
	}
	inner := append(append([]byte(nil), p...), typeApplicationData)
	n := len(inner) + aead.Overhead()
	hdr := []byte{typeApplicationData, 3, 3, byte(n >> 8), byte(n)}
	return aead.Seal(hdr, nonce[:], inner, hdr)
}

// TestExport: the exported keys and sequence numbers continue each
// direction where the Conn left it, after records and a KeyUpdate: a
// record sealed from them opens at the peer, both ways, in every suite.
func TestExport(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		srv, cli := pair(t, id)
		w, err := srv.Seal(nil, []byte("before"))
		require.NoError(t, err)
		got, err := openAll(cli, w)
		require.NoError(t, err)
		require.Equal(t, "before", string(got))
		ku, err := cli.AppendKeyUpdate(nil, false) // the server's read key moves on
		require.NoError(t, err)
		_, err = openAll(srv, ku)
		require.NoError(t, err)

		rd, wr, err := srv.Export()
		require.NoError(t, err)
		s := suiteByID(id)
		got, err = openAll(cli, sealWith(t, s, wr, []byte("from the kernel")))
		require.NoError(t, err)
		require.Equal(t, "from the kernel", string(got))
		got, err = openAll(srv, sealWith(t, s, rd, []byte("to the kernel"))) // as the client would under rd
		require.NoError(t, err)
		require.Equal(t, "to the kernel", string(got))
	})
}

// TestExportRefused: state a kernel record layer cannot carry on is not
// exported.
func TestExportRefused(t *testing.T) {
	srv, cli := pair(t, allSuites[0])
	ku, err := cli.AppendKeyUpdate(nil, true) // asks the server for a KeyUpdate
	require.NoError(t, err)
	_, err = openAll(srv, ku)
	require.NoError(t, err)
	_, _, err = srv.Export()
	require.ErrorIs(t, err, ErrNotExportable, "a KeyUpdate owed")
	srv2, _ := pair(t, allSuites[0])
	srv2.AppendCloseNotify(nil)
	_, _, err = srv2.Export()
	require.ErrorIs(t, err, ErrNotExportable, "after close_notify")
}

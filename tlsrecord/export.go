package tlsrecord

import "errors"

// DirectionKeys is one direction's record protection at a record
// boundary: the AEAD key and IV of its current traffic secret and the
// sequence number of the next record. This is what kernel TLS (TLS_TX,
// TLS_RX) takes to continue the connection.
type DirectionKeys struct {
	Key []byte
	IV  [ivLen]byte
	Seq uint64
}

// ErrNotExportable is Export's error when the Conn is not at a point where
// another record layer can take over.
var ErrNotExportable = errors.New("tlsrecord: record layer state cannot be handed over now")

// Export returns the keys and next sequence numbers of both directions
// for a record layer that takes over (kernel TLS). It refuses when the
// Conn has failed, either side has sent close_notify, a KeyUpdate is owed
// to the peer, or a post-handshake message is half read: state a kernel
// record layer could not carry on. The caller must have sent every record
// Seal produced and opened every record it received. Seal and Open must
// not be used afterwards.
func (c *Conn) Export() (read, write DirectionKeys, err error) {
	if c.err != nil || c.flags != 0 || c.hsLen != 0 {
		return read, write, ErrNotExportable
	}
	if read, err = c.in.export(c.suite); err != nil {
		return read, write, err
	}
	write, err = c.out.export(c.suite)
	return read, write, err
}

func (h *halfConn) export(s *suite) (DirectionKeys, error) {
	key, err := s.expandLabel(h.secret[:h.secretLen], "key", s.keyLen)
	if err != nil {
		return DirectionKeys{}, err
	}
	return DirectionKeys{Key: key, IV: h.iv, Seq: h.seq}, nil
}

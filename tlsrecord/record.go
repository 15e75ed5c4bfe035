package tlsrecord

import (
	"crypto/cipher"
	"errors"
	"io"
	"slices"
)

// Record content types (RFC 8446 section 5.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
)

// rekeyAfter is how many records Seal protects with one key before it
// rekeys on its own with a KeyUpdate: well inside AES-GCM's limit of about
// 2^24.5 full records per key (RFC 8446 section 5.5).
const rekeyAfter = 1 << 23

// maxUselessRecords bounds the records in a row that carry no application
// data (empty records, KeyUpdates, user_canceled), as crypto/tls does, so a
// peer cannot keep the loop decrypting without progress.
const maxUselessRecords = 16

// ErrClosed is returned by Seal after AppendCloseNotify.
var ErrClosed = errors.New("tlsrecord: write side closed")

// Params are what a record layer needs from a finished TLS 1.3 handshake.
// Read is the direction peer -> this side, Write this side -> peer.
// NewConn copies the secrets; the caller may clear them afterwards.
type Params struct {
	Suite       uint16
	ReadSecret  []byte
	WriteSecret []byte
	ReadSeq     uint64
	WriteSeq    uint64
}

// halfConn is one direction's key state.
type halfConn struct {
	aead      cipher.AEAD
	seq       uint64
	iv        [ivLen]byte
	nonce     [ivLen]byte // scratch for the per-record nonce, kept here so it never escapes to the heap per call
	secretLen uint8
	secret    [maxSecretLen]byte // kept for KeyUpdate
}

func (h *halfConn) setSecret(s *suite, secret []byte) error {
	if len(secret) != s.hashSz {
		return errors.New("tlsrecord: traffic secret has the wrong length for the suite")
	}
	key, err := s.expandLabel(secret, "key", s.keyLen)
	if err != nil {
		return err
	}
	iv, err := s.expandLabel(secret, "iv", ivLen)
	if err != nil {
		return err
	}
	aead, err := s.aead(key)
	if err != nil {
		return err
	}
	clear(key)
	h.aead = aead
	copy(h.iv[:], iv)
	h.secretLen = uint8(copy(h.secret[:], secret))
	h.seq = 0
	return nil
}

// update moves to the next application traffic secret (KeyUpdate).
func (h *halfConn) update(s *suite) error {
	next, err := s.nextSecret(h.secret[:h.secretLen])
	if err != nil {
		return err
	}
	return h.setSecret(s, next)
}

// nextNonce is the per-record nonce: the IV XOR the 64-bit sequence number
// left-padded to the IV length (RFC 8446 section 5.3).
func (h *halfConn) nextNonce() []byte {
	h.nonce = h.iv
	for i := 0; i < 8; i++ {
		h.nonce[ivLen-1-i] ^= byte(h.seq >> (8 * i))
	}
	return h.nonce[:]
}

// connFlags are the Conn's one-way switches.
type connFlags uint8

const (
	flagReadEOF      connFlags = 1 << iota // peer sent close_notify
	flagWriteClosed                        // we sent close_notify
	flagKeyUpdateDue                       // peer asked for a KeyUpdate we have not sent
	flagAlertSent                          // the fatal alert for err went out
)

// Conn is the TLS 1.3 record layer of one connection after its handshake.
// It is not safe for concurrent use: the owning loop drives it.
type Conn struct {
	suite *suite // immutable; never nil
	in    halfConn
	out   halfConn
	// err is the first failure, sticky: an AlertError (ours, to send) or a
	// PeerAlertError. Once set, Open and Seal return it.
	err     error
	flags   connFlags
	useless uint8 // records in a row without application data
	hsLen   uint8
	hs      [5]byte // a post-handshake message split across records (KeyUpdate is 5 bytes)
}

// NewConn builds a record layer from a finished handshake's parameters.
func NewConn(p Params) (*Conn, error) {
	s := suiteByID(p.Suite)
	if s == nil {
		return nil, errors.New("tlsrecord: cipher suite not implemented")
	}
	c := &Conn{suite: s}
	if err := c.in.setSecret(s, p.ReadSecret); err != nil {
		return nil, err
	}
	if err := c.out.setSecret(s, p.WriteSecret); err != nil {
		return nil, err
	}
	c.in.seq, c.out.seq = p.ReadSeq, p.WriteSeq
	return c, nil
}

// Suite returns the connection's cipher suite id.
func (c *Conn) Suite() uint16 { return c.suite.id }

// Err returns the connection's sticky failure, or nil.
func (c *Conn) Err() error { return c.err }

func (c *Conn) fail(a AlertError) error {
	if c.err == nil {
		c.err = a
	}
	return c.err
}

// Open decrypts the first record in buf in place. It returns the
// application data the record carried, a view into buf valid until buf is
// reused, and n, the bytes of buf the record took. n == 0 with a nil error
// means buf does not yet hold a whole record: receive more and call again
// with the same bytes in front. A record without application data (a
// KeyUpdate, an empty record) gives n > 0 and empty data. After the peer's
// close_notify Open returns io.EOF. Any other error is fatal and sticky:
// send what AppendAlert appends, then close.
func (c *Conn) Open(buf []byte) (data []byte, n int, err error) {
	if c.err != nil {
		return nil, 0, c.err
	}
	if c.flags&flagReadEOF != 0 {
		return nil, 0, io.EOF
	}
	if len(buf) < HeaderLen {
		return nil, 0, nil
	}
	// Judge the header before waiting for the body, so garbage or an
	// oversized record fails now instead of making us buffer it.
	length := int(buf[3])<<8 | int(buf[4])
	if length > maxCiphertext {
		return nil, 0, c.fail(AlertRecordOverflow)
	}
	if buf[0] != typeApplicationData {
		return nil, 0, c.fail(AlertUnexpectedMessage)
	}
	n = HeaderLen + length
	if len(buf) < n {
		return nil, 0, nil
	}
	if length < tagLen+1 || c.in.seq == ^uint64(0) {
		return nil, 0, c.fail(AlertBadRecordMAC)
	}
	rec := buf[HeaderLen:n]
	plain, openErr := c.in.aead.Open(rec[:0], c.in.nextNonce(), rec, buf[:HeaderLen])
	if openErr != nil {
		return nil, 0, c.fail(AlertBadRecordMAC)
	}
	c.in.seq++
	// TLSInnerPlaintext: content, the real type, then zero padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, c.fail(AlertUnexpectedMessage)
	}
	typ, data := plain[i], plain[:i]
	if len(data) > MaxPlaintext {
		return nil, 0, c.fail(AlertRecordOverflow)
	}
	if c.hsLen > 0 && typ != typeHandshake {
		// A handshake message must not be interleaved with other records.
		return nil, 0, c.fail(AlertUnexpectedMessage)
	}
	switch typ {
	case typeApplicationData:
		if len(data) > 0 {
			c.useless = 0
			return data, n, nil
		}
		err = c.uselessRecord()
	case typeAlert:
		err = c.peerAlert(data)
	case typeHandshake:
		err = c.postHandshake(data)
	default:
		err = c.fail(AlertUnexpectedMessage)
	}
	if err != nil {
		return nil, 0, err
	}
	return nil, n, nil
}

func (c *Conn) uselessRecord() error {
	c.useless++
	if c.useless > maxUselessRecords {
		return c.fail(AlertUnexpectedMessage)
	}
	return nil
}

// Seal appends p to dst as application data records of at most
// MaxPlaintext bytes each and returns the extended buffer. It allocates
// only when dst lacks room (len(p) plus Overhead per record). A KeyUpdate
// the peer asked for goes out first, as RFC 8446 section 4.6.3 requires,
// and every rekeyAfter records Seal sends one of its own.
// p may already sit at dst[len(dst)+HeaderLen:] in dst's spare capacity
// (a caller that wrote its plaintext where the record goes): a p of at most
// MaxPlaintext bytes is then sealed in place, with no copy, provided no
// KeyUpdate is due (Pending). Otherwise p must not overlap dst's capacity.
func (c *Conn) Seal(dst, p []byte) ([]byte, error) {
	if err := c.writable(); err != nil {
		return dst, err
	}
	dst, err := c.AppendPending(dst)
	if err != nil {
		return dst, err
	}
	for len(p) > 0 {
		if c.out.seq >= rekeyAfter {
			if dst, err = c.AppendKeyUpdate(dst, false); err != nil {
				return dst, err
			}
		}
		k := min(len(p), MaxPlaintext)
		if dst, err = c.sealRecord(dst, typeApplicationData, p[:k]); err != nil {
			return dst, err
		}
		p = p[k:]
	}
	return dst, nil
}

func (c *Conn) writable() error {
	if c.err != nil {
		return c.err
	}
	if c.flags&flagWriteClosed != 0 {
		return ErrClosed
	}
	return nil
}

// sealRecord appends one protected record of content type typ.
func (c *Conn) sealRecord(dst []byte, typ byte, p []byte) ([]byte, error) {
	if c.out.seq == ^uint64(0) {
		// RFC 8446 section 5.3: the sequence number must not wrap.
		return dst, c.fail(AlertInternalError)
	}
	length := len(p) + 1 + tagLen
	dst = slices.Grow(dst, HeaderLen+length)
	off := len(dst)
	dst = dst[:off+HeaderLen+length]
	body := dst[off+HeaderLen:]
	copy(body, p) // first: p may already sit here (see Seal)
	body[len(p)] = typ
	hdr := dst[off : off+HeaderLen]
	hdr[0], hdr[1], hdr[2], hdr[3], hdr[4] = typeApplicationData, 3, 3, byte(length>>8), byte(length)
	c.out.aead.Seal(body[:0], c.out.nextNonce(), body[:len(p)+1], hdr)
	c.out.seq++
	return dst, nil
}

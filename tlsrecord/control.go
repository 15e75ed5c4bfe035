package tlsrecord

import (
	"errors"
	"io"
	"strconv"
)

// AlertError is a fatal error this side detected; the alert it names is
// the one AppendAlert sends to the peer.
type AlertError uint8

// The alerts this package sends (RFC 8446 section 6).
const (
	AlertCloseNotify       AlertError = 0
	AlertUnexpectedMessage AlertError = 10
	AlertBadRecordMAC      AlertError = 20
	AlertRecordOverflow    AlertError = 22
	AlertIllegalParameter  AlertError = 47
	AlertDecodeError       AlertError = 50
	AlertInternalError     AlertError = 80
	alertUserCanceled                 = 90
)

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
	47: "illegal_parameter", 50: "decode_error", 51: "decrypt_error",
	70: "protocol_version", 80: "internal_error", 90: "user_canceled",
}

func alertName(a uint8) string {
	if s, ok := alertNames[a]; ok {
		return s
	}
	return "alert(" + strconv.Itoa(int(a)) + ")"
}

func (a AlertError) Error() string { return "tlsrecord: local error: " + alertName(uint8(a)) }

// PeerAlertError is a fatal alert the peer sent; nothing is sent back.
type PeerAlertError uint8

func (a PeerAlertError) Error() string { return "tlsrecord: remote error: " + alertName(uint8(a)) }

// Handshake message types seen after the handshake.
const (
	msgNewSessionTicket = 4
	msgKeyUpdate        = 24
)

// peerAlert handles an alert record's content.
func (c *Conn) peerAlert(p []byte) error {
	if len(p) != 2 {
		return c.fail(AlertUnexpectedMessage)
	}
	switch p[1] {
	case uint8(AlertCloseNotify):
		c.flags |= flagReadEOF
		return io.EOF
	case alertUserCanceled:
		// The one TLS 1.3 alert that is not fatal; close_notify follows.
		return c.uselessRecord()
	}
	if c.err == nil {
		c.err = PeerAlertError(p[1])
	}
	return c.err
}

// postHandshake handles handshake content after the handshake. A server
// accepts only the client's KeyUpdate: NewSessionTicket goes server to
// client, and this package requests no post-handshake authentication.
func (c *Conn) postHandshake(p []byte) error {
	if len(p) == 0 {
		return c.fail(AlertUnexpectedMessage) // section 5.1: no empty handshake fragments
	}
	k := copy(c.hs[c.hsLen:], p)
	c.hsLen += uint8(k)
	p = p[k:]
	if c.hs[0] != msgKeyUpdate {
		return c.fail(AlertUnexpectedMessage)
	}
	if c.hsLen >= 4 && (c.hs[1] != 0 || c.hs[2] != 0 || c.hs[3] != 1) {
		return c.fail(AlertDecodeError) // a KeyUpdate body is one byte
	}
	if c.hsLen < 5 {
		return nil // the rest comes in the next record, under the same key
	}
	if len(p) > 0 {
		// Section 5.1: a message preceding a key change must end its record.
		return c.fail(AlertUnexpectedMessage)
	}
	c.hsLen = 0
	req := c.hs[4]
	if req > 1 {
		return c.fail(AlertIllegalParameter)
	}
	if err := c.in.update(c.suite); err != nil {
		return c.fail(AlertInternalError)
	}
	if req == 1 {
		c.flags |= flagKeyUpdateDue
	}
	return c.uselessRecord()
}

// Pending reports whether the peer asked for a KeyUpdate this side has not
// sent yet. Seal sends it before the next data; AppendPending sends it now.
func (c *Conn) Pending() bool { return c.flags&flagKeyUpdateDue != 0 && c.writable() == nil }

// AppendPending appends the KeyUpdate the peer asked for, if any.
func (c *Conn) AppendPending(dst []byte) ([]byte, error) {
	if c.flags&flagKeyUpdateDue == 0 {
		return dst, nil
	}
	c.flags &^= flagKeyUpdateDue
	return c.AppendKeyUpdate(dst, false)
}

// AppendKeyUpdate appends a KeyUpdate record and moves this side's writes
// to the next traffic secret; with requestPeer the peer is asked to update
// its own (RFC 8446 section 4.6.3). A loop may call it to rekey a long
// connection before the AEAD's record limit.
func (c *Conn) AppendKeyUpdate(dst []byte, requestPeer bool) ([]byte, error) {
	if err := c.writable(); err != nil {
		return dst, err
	}
	msg := [5]byte{msgKeyUpdate, 0, 0, 1, 0}
	if requestPeer {
		msg[4] = 1
	}
	dst, err := c.sealRecord(dst, typeHandshake, msg[:])
	if err != nil {
		return dst, err
	}
	if err := c.out.update(c.suite); err != nil {
		return dst, c.fail(AlertInternalError)
	}
	return dst, nil
}

// AppendAlert appends the fatal alert for the Conn's failure, once, when the
// failure was detected here; otherwise it returns dst unchanged. Send it and
// close the connection.
func (c *Conn) AppendAlert(dst []byte) []byte {
	var a AlertError
	if !errors.As(c.err, &a) || c.flags&(flagAlertSent|flagWriteClosed) != 0 {
		return dst
	}
	c.flags |= flagAlertSent
	dst, _ = c.sealRecord(dst, typeAlert, []byte{2, byte(a)})
	return dst
}

// AppendCloseNotify appends a close_notify alert and closes the write side:
// Seal then returns ErrClosed. After a failure it appends nothing.
func (c *Conn) AppendCloseNotify(dst []byte) []byte {
	if c.writable() != nil {
		return dst
	}
	dst, err := c.sealRecord(dst, typeAlert, []byte{1, byte(AlertCloseNotify)})
	if err == nil {
		c.flags |= flagWriteClosed
	}
	return dst
}

// Package ktls is the part of Linux's kernel TLS ABI (linux/tls.h) uringd
// uses: it hands a TCP socket's TLS 1.3 record keys to the kernel (TCP_ULP
// "tls", then SOL_TLS TLS_TX and TLS_RX), after which the socket carries
// plaintext for send, recv, sendfile and splice and the kernel seals and
// opens the records. Records that are not application data go through
// recvmsg and sendmsg with a record-type control message.
//
// The kernel needs CONFIG_TLS (Debian builds it as the tls module) and its
// AEADs (gcm(aes), rfc7539(chacha20,poly1305)); Available probes both once.
package ktls

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// linux/tls.h values that golang.org/x/sys/unix does not define (it has
// SOL_TLS and TCP_ULP).
const (
	optTX = 1 // TLS_TX
	optRX = 2 // TLS_RX

	cmsgSetRecordType = 1 // TLS_SET_RECORD_TYPE
	cmsgGetRecordType = 2 // TLS_GET_RECORD_TYPE

	version13 = 0x0304 // TLS_1_3_VERSION

	cipherAESGCM128 = 51 // TLS_CIPHER_AES_GCM_128
	cipherAESGCM256 = 52 // TLS_CIPHER_AES_GCM_256
	cipherChaCha    = 54 // TLS_CIPHER_CHACHA20_POLY1305
)

// Record content types.
const (
	RecordAlert     = 21
	RecordHandshake = 22
	RecordData      = 23
)

// TLS 1.3 cipher suite ids (crypto/tls's), the ones the kernel takes.
const (
	suiteAES128 = 0x1301
	suiteAES256 = 0x1302
	suiteChaCha = 0x1303
)

// Keys are one direction's state: the AEAD key, the 12-byte IV from the
// traffic secret, and the sequence number of the next record.
type Keys struct {
	Key []byte
	IV  [12]byte
	Seq uint64
}

// cryptoInfo encodes one direction as the kernel's
// tls12_crypto_info_{aes_gcm_128,aes_gcm_256,chacha20_poly1305}: a
// tls_crypto_info header, then iv, key, salt and rec_seq. For the AES-GCM
// structs the IV is split: its first 4 bytes are the salt, the other 8
// the iv; the kernel XORs the record sequence number into salt||iv, which
// is TLS 1.3's nonce (RFC 8446 section 5.3).
func cryptoInfo(suite uint16, k *Keys) ([]byte, error) {
	var cipher uint16
	var keyLen int
	switch suite {
	case suiteAES128:
		cipher, keyLen = cipherAESGCM128, 16
	case suiteAES256:
		cipher, keyLen = cipherAESGCM256, 32
	case suiteChaCha:
		cipher, keyLen = cipherChaCha, 32
	default:
		return nil, errors.New("ktls: cipher suite not supported by kernel TLS")
	}
	if len(k.Key) != keyLen {
		return nil, errors.New("ktls: key has the wrong length for the suite")
	}
	b := make([]byte, 4, 4+12+keyLen+8)
	binary.NativeEndian.PutUint16(b[0:], version13)
	binary.NativeEndian.PutUint16(b[2:], cipher)
	if suite == suiteChaCha {
		b = append(b, k.IV[:]...) // iv[12], no salt
		b = append(b, k.Key...)
	} else {
		b = append(b, k.IV[4:]...) // iv[8]
		b = append(b, k.Key...)
		b = append(b, k.IV[:4]...) // salt[4]
	}
	return binary.BigEndian.AppendUint64(b, k.Seq), nil // rec_seq[8], big-endian as on the wire
}

// ErrHalf is the error of an Enable whose TX keys are in the kernel but
// whose RX keys could not be: the socket can no longer be used from user
// space with the record layer, nor with the kernel's. Close it.
var ErrHalf = errors.New("ktls: TX installed, RX refused")

// Enable hands fd's record keys to the kernel: after it returns nil, the
// socket carries plaintext both ways. The caller must have sent every
// record it sealed itself and must not have read a byte of a record
// beyond those it opened: tx.Seq and rx.Seq are the next records'. An
// error other than ErrHalf leaves the socket usable as before (a TLS ULP
// without keys passes bytes through untouched).
func Enable(fd int, suite uint16, rx, tx *Keys) error {
	txi, err := cryptoInfo(suite, tx)
	if err != nil {
		return err
	}
	rxi, err := cryptoInfo(suite, rx)
	if err != nil {
		return err
	}
	if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_ULP, "tls"); err != nil {
		return err
	}
	err = unix.SetsockoptString(fd, unix.SOL_TLS, optTX, string(txi))
	clear(txi)
	if err != nil {
		clear(rxi)
		return err
	}
	err = unix.SetsockoptString(fd, unix.SOL_TLS, optRX, string(rxi))
	clear(rxi)
	if err != nil {
		return errors.Join(ErrHalf, err)
	}
	return nil
}

// ULP is the socket's upper-layer protocol ("tls" once Enable has run; ""
// for none).
func ULP(fd int) (string, error) {
	s, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_ULP)
	if err == unix.ENOENT {
		return "", nil
	}
	return s, err
}

// ReadRecord reads the record at the head of a kTLS socket's input without
// waiting (MSG_DONTWAIT): its content type and its plaintext, in buf. A
// recv without room for a control message fails with EIO on a record that
// is not application data; this is how to read that record. With
// RecordData, buf holds application data like a recv's.
func ReadRecord(fd int, buf []byte) (typ byte, n int, err error) {
	var oob [64]byte
	n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob[:], unix.MSG_DONTWAIT)
	if err != nil {
		return 0, 0, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_TLS && m.Header.Type == cmsgGetRecordType && len(m.Data) > 0 {
			return m.Data[0], n, nil
		}
	}
	return RecordData, n, nil
}

// SendAlert sends one alert record (level, description) on a kTLS socket
// without waiting; close_notify is (1, 0).
func SendAlert(fd int, level, desc byte) error {
	oob := make([]byte, unix.CmsgSpace(1))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = unix.SOL_TLS
	h.Type = cmsgSetRecordType
	h.SetLen(unix.CmsgLen(1))
	oob[unix.CmsgLen(0)] = RecordAlert
	n, err := unix.SendmsgN(fd, []byte{level, desc}, oob, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	if err == nil && n != 2 {
		err = errors.New("ktls: alert record not sent whole")
	}
	return err
}

// Probe is what Available found.
type Probe struct {
	Suites []uint16 // the TLS 1.3 suites the kernel takes both ways
	Why    string   // when none: why
}

var probe struct {
	once sync.Once
	p    Probe
}

// Available probes the kernel once (and caches the answer): whether the
// tls ULP exists (setting it fails with ENOENT without the module), and
// which suites' keys it accepts in both directions, on a loopback TCP
// connection of its own.
func Available() Probe {
	probe.once.Do(func() { probe.p = doProbe() })
	return probe.p
}

// Supports reports whether kernel TLS takes suite (after Available).
func (p Probe) Supports(suite uint16) bool {
	for _, s := range p.Suites {
		if s == suite {
			return true
		}
	}
	return false
}

func doProbe() Probe {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return Probe{Why: "socket: " + err.Error()}
	}
	err = unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_ULP, "tls")
	unix.Close(fd)
	switch err {
	case unix.ENOENT:
		return Probe{Why: "the kernel has no tls module loaded (CONFIG_TLS; modprobe tls: only a CAP_NET_ADMIN process makes it load on demand)"}
	case nil, unix.ENOTCONN: // the ULP exists; it wants an established socket
	default:
		return Probe{Why: "TCP_ULP tls: " + err.Error()}
	}
	var p Probe
	why := ""
	for _, s := range []uint16{suiteAES128, suiteAES256, suiteChaCha} {
		if err := probeSuite(s); err != nil {
			why = err.Error()
			continue
		}
		p.Suites = append(p.Suites, s)
	}
	if len(p.Suites) == 0 {
		p.Why = "no suite's keys accepted: " + why
	}
	return p
}

// probeSuite installs dummy keys of suite on a loopback connection.
func probeSuite(suite uint16) error {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := ln.AcceptTCP()
	if err != nil {
		return err
	}
	defer s.Close()
	rc, err := s.SyscallConn()
	if err != nil {
		return err
	}
	keyLen := 32
	if suite == suiteAES128 {
		keyLen = 16
	}
	k := Keys{Key: make([]byte, keyLen)}
	var eerr error
	if err := rc.Control(func(fd uintptr) { eerr = Enable(int(fd), suite, &k, &k) }); err != nil {
		return err
	}
	return eerr
}

package tlsrecord

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"hash"

	// The standard library keeps its ChaCha20-Poly1305 internal (vendored
	// for crypto/tls, and crypto/hpke does not expose a cipher.AEAD with a
	// chosen key), so TLS_CHACHA20_POLY1305_SHA256 needs x/crypto.
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// HeaderLen is the length of a record header.
	HeaderLen = 5
	// MaxPlaintext is the most application data one record carries (RFC
	// 8446 section 5.1).
	MaxPlaintext = 1 << 14
	// maxCiphertext bounds a TLSCiphertext's length field (section 5.2).
	maxCiphertext = MaxPlaintext + 256
	tagLen        = 16
	ivLen         = 12
	// Overhead is the most a sealed record adds to its plaintext: the
	// header, the inner content type and the AEAD tag.
	Overhead = HeaderLen + 1 + tagLen
	// maxSecretLen is the longest traffic secret (SHA-384).
	maxSecretLen = 48
)

// suite is one TLS 1.3 cipher suite: its AEAD and the hash of its key
// schedule.
type suite struct {
	id     uint16
	keyLen int
	hash   func() hash.Hash
	hashSz int
	aead   func(key []byte) (cipher.AEAD, error)
}

var suites = [...]suite{
	{tls.TLS_AES_128_GCM_SHA256, 16, sha256.New, sha256.Size, newAESGCM},
	{tls.TLS_AES_256_GCM_SHA384, 32, sha512.New384, sha512.Size384, newAESGCM},
	{tls.TLS_CHACHA20_POLY1305_SHA256, chacha20poly1305.KeySize, sha256.New, sha256.Size, chacha20poly1305.New},
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// suiteByID returns the suite with the given IANA id, or nil when this
// package does not implement it.
func suiteByID(id uint16) *suite {
	for i := range suites {
		if suites[i].id == id {
			return &suites[i]
		}
	}
	return nil
}

// Supported reports whether the record layer implements the TLS 1.3 cipher
// suite id.
func Supported(id uint16) bool { return suiteByID(id) != nil }

// expandLabel is HKDF-Expand-Label from RFC 8446 section 7.1, with an empty
// context (all this package needs: keys, IVs and key updates).
func (s *suite) expandLabel(secret []byte, label string, n int) ([]byte, error) {
	// HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label,
	// opaque context<0..255> (empty here).
	var info [2 + 1 + 6 + 12 + 1]byte
	full := "tls13 " + label
	if len(full)+4 > len(info) {
		return nil, errors.New("tlsrecord: label too long")
	}
	info[0], info[1] = byte(n>>8), byte(n)
	info[2] = byte(len(full))
	copy(info[3:], full)
	info[3+len(full)] = 0
	return hkdf.Expand(s.hash, secret, string(info[:4+len(full)]), n)
}

// nextSecret is application_traffic_secret_N+1 (RFC 8446 section 7.2).
func (s *suite) nextSecret(secret []byte) ([]byte, error) {
	return s.expandLabel(secret, "traffic upd", s.hashSz)
}

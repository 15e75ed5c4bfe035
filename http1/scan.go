package http1

import (
	"encoding/binary"
	"math/bits"
)

// Byte classes from RFC 9110 §5.6.2 (token) and §5.5 (field-value), as
// 256-entry tables so that the per-byte test is one load.

// tokenTable: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// valueTable: field-vchar / SP / HTAB, where field-vchar = VCHAR / obs-text.
// Everything else (CTLs, DEL) is refused; CR and LF end the line.
var valueTable = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != 0x7f
	}
	t['\t'] = true
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanValue returns the index of the first byte at or after i that cannot be
// part of a field value (a CTL other than HTAB, or DEL), or len(b).
// Values are the bulk of a request head, so eight bytes are tested per step,
// and the first flagged byte is located exactly from the mask (no byte
// loop); a HTAB there is allowed and the scan goes on after it.
// (Finding the CR with bytes.IndexByte first and then validating was
// measured slower on the browser request: two passes over short values.)
func scanValue(b []byte, i int) int {
	// Walking a shrinking slice (rather than an index) leaves the loop
	// without bounds checks.
	rest := b[i:]
	for len(rest) >= 8 {
		m := ctlMask(binary.LittleEndian.Uint64(rest))
		if m == 0 {
			rest = rest[8:]
			continue
		}
		j := bits.TrailingZeros64(m) >> 3
		if rest[j] != '\t' {
			return len(b) - len(rest) + j
		}
		rest = rest[j+1:]
	}
	for k, c := range rest {
		if !valueTable[c] {
			return len(b) - len(rest) + k
		}
	}
	return len(b)
}

// ctlMask flags (in each byte's top bit) the bytes of x that are < 0x20 or
// 0x7f. The lowest flag is exact (no borrow reaches it); higher ones may be
// false positives, which is fine for "is there any" and "where is the first".
// From "Bit Twiddling Hacks" (hasless, haszero).
func ctlMask(x uint64) uint64 {
	y := x ^ (lsb * 0x7f)
	return ((x-lsb*0x20)&^x | (y-lsb)&^y) & msb
}

// scanTarget returns the index of the first byte at or after i that is SP, a
// CTL or DEL, or len(b). Bytes >= 0x80 pass (like nginx and net/http); RFC
// 9112 §3.2 clients percent-encode them, and a raw one cannot change framing.
func scanTarget(b []byte, i int) int {
	rest := b[i:]
	for len(rest) >= 8 {
		x := binary.LittleEndian.Uint64(rest)
		y := x ^ (lsb * 0x7f)
		m := ((x-lsb*0x21)&^x | (y-lsb)&^y) & msb
		if m != 0 {
			return len(b) - len(rest) + bits.TrailingZeros64(m)>>3
		}
		rest = rest[8:]
	}
	for k, c := range rest {
		if c <= 0x20 || c == 0x7f {
			return len(b) - len(rest) + k
		}
	}
	return len(b)
}

// scanToken returns the index of the first non-tchar at or after i, or len(b).
func scanToken(b []byte, i int) int {
	for i < len(b) && tokenTable[b[i]] {
		i++
	}
	return i
}

// trimOWS strips optional whitespace (SP / HTAB, RFC 9110 §5.6.3) from both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// lowerEq reports whether b equals the lower-case ASCII word s, ignoring
// case. OR-ing 0x20 folds case exactly for the letters and '-' that s holds;
// no other byte maps onto them (0x0D, which maps to '-', is not a tchar and
// never reaches here inside a name, and is rejected inside a value).
// A byte loop, inlined: most names of a framing header's length are other
// headers (User-Agent, Accept, Sec-Fetch-*), which differ at the first byte.
func lowerEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// str32 is s[i:i+4] as a little-endian word (a constant when s and i are).
func str32(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

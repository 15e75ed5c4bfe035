package http1

import "encoding/binary"

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

// hostTable is the set net/http (httpguts.ValidHostHeader) accepts: RFC 3986
// reg-name, IP-literal and port characters.
var hostTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!$%&'()*+,-.:;=[]_~" {
		t[c] = true
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess reports whether some byte of x is < n (n <= 128); bytes >= 0x80
// never count. Exact, from "Bit Twiddling Hacks" (hasless).
func hasLess(x uint64, n byte) bool {
	return (x-lsb*uint64(n))&^x&msb != 0
}

// hasByte reports whether some byte of x equals c.
func hasByte(x uint64, c byte) bool {
	y := x ^ (lsb * uint64(c))
	return (y-lsb)&^y&msb != 0
}

// scanValue returns the index of the first byte at or after i that cannot be
// part of a field value (a CTL other than HTAB, or DEL), or len(b).
// Values are the bulk of a request head, so eight bytes are tested at a time;
// a word with a suspicious byte (usually the closing CR, sometimes a HTAB) is
// finished byte by byte and the word loop resumes.
func scanValue(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if hasLess(x, 0x20) || hasByte(x, 0x7f) {
				break
			}
			i += 8
		}
		end := min(i+8, len(b))
		for ; i < end; i++ {
			if !valueTable[b[i]] {
				return i
			}
		}
		if i >= len(b) {
			return i
		}
	}
}

// scanTarget returns the index of the first byte at or after i that is SP, a
// CTL or DEL, or len(b). Bytes >= 0x80 pass (like nginx and net/http); RFC
// 9112 §3.2 clients percent-encode them, and a raw one cannot change framing.
func scanTarget(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		if hasLess(x, 0x21) || hasByte(x, 0x7f) {
			break
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if c := b[i]; c <= 0x20 || c == 0x7f {
			return i
		}
	}
	return i
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

package http1

import (
	"encoding/binary"
	"math/bits"
)

// Host field values, RFC 9112 §3.2: Host = uri-host [ ":" port ], with
// uri-host = IP-literal / IPv4address / reg-name and port = *DIGIT
// (RFC 3986 §3.2.2, §3.2.3). An IPv4address is also a reg-name (digits and
// dots), so it needs no rule of its own. The checks walk the value once and
// allocate nothing.

// regNameTable: reg-name = *( unreserved / pct-encoded / sub-delims ), the
// '%' of pct-encoded checked apart (two HEXDIG must follow).
var regNameTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=" {
		t[c] = true
	}
	return t
}()

// validHost reports whether v is uri-host [ ":" port ]. The empty value is
// valid (an empty reg-name: a request whose target has no authority).
func validHost(v []byte) bool {
	i := 0
	if len(v) > 0 && v[0] == '[' {
		end := -1
		for j := 1; j < len(v); j++ {
			if v[j] == ']' {
				end = j
				break
			}
		}
		if end < 0 || !validIPLiteral(v[1:end]) {
			return false
		}
		i = end + 1
	} else {
		// Host names are letters, digits, '.' and '-' (every Host a
		// client sends but a rare percent-encoded or sub-delims one):
		// eight of those are checked at a time, and the first other
		// byte, ':' included, goes to the byte loop.
		for rest := v; len(rest) >= 8; rest = rest[8:] {
			if m := notHostWord(binary.LittleEndian.Uint64(rest)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		// ':' is not a reg-name byte, so it stops the loop as the end of
		// the name would.
		for {
			for i < len(v) && regNameTable[v[i]] {
				i++
			}
			if i+2 < len(v) && v[i] == '%' && HexDigit(v[i+1]) >= 0 && HexDigit(v[i+2]) >= 0 {
				i += 3
				continue
			}
			break
		}
	}
	if i == len(v) {
		return true
	}
	if v[i] != ':' {
		return false // "[::1]x", or a byte no host has
	}
	port := v[i+1:]
	if n := len(port); n < 8 && len(v) >= 8 {
		// The port's digits are the last bytes of the word that ends
		// the value: one test for all of them.
		m := notDigitWord(binary.LittleEndian.Uint64(v[len(v)-8:]))
		return m>>(8*(8-n)) == 0
	}
	for _, c := range port {
		if c-'0' > 9 {
			return false
		}
	}
	return true
}

// notDigitWord flags (in each byte's top bit) the bytes of x that are not
// ASCII digits, exactly (see notHostWord).
func notDigitWord(x uint64) uint64 {
	const (
		digitHi = lsb * (127 + '9' + 1)
		digitLo = lsb * (127 - '/')
	)
	lo := x &^ msb
	return (^((digitHi - lo) & (lo + digitLo)) | x) & msb
}

// notHostWord flags (in each byte's top bit) the bytes of x that are not
// an ASCII letter, digit, '.' or '-'. Every flag is exact: each range test
// works on bytes of at most 0x7f, which neither carry nor borrow into their
// neighbours, and bytes of 0x80 or more are flagged apart (Bit Twiddling
// Hacks' hasbetween, without its "likely").
func notHostWord(x uint64) uint64 {
	// (lsb*(127+n) - c) & (c + lsb*(127-m)) flags m < c < n.
	const (
		dashDotHi = lsb * (127 + '/')
		dashDotLo = lsb * (127 - ('-' - 1))
		digitHi   = lsb * (127 + '9' + 1)
		digitLo   = lsb * (127 - '/')
		letterHi  = lsb * (127 + 'z' + 1)
		letterLo  = lsb * (127 - ('a' - 1))
	)
	lo := x &^ msb
	l := lo | lsb*0x20 // case folded: exact for letters, others land outside a-z
	ok := (dashDotHi-lo)&(lo+dashDotLo) | (digitHi-lo)&(lo+digitLo) | (letterHi-l)&(l+letterLo)
	return (^ok | x) & msb
}

// validIPLiteral: what is between the brackets, IPv6address / IPvFuture.
func validIPLiteral(v []byte) bool {
	if len(v) > 0 && (v[0] == 'v' || v[0] == 'V') {
		return validIPvFuture(v[1:])
	}
	return validIPv6(v)
}

// validIPvFuture: after the "v", 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
func validIPvFuture(v []byte) bool {
	i := 0
	for i < len(v) && HexDigit(v[i]) >= 0 {
		i++
	}
	if i == 0 || i+1 >= len(v) || v[i] != '.' {
		return false
	}
	for _, c := range v[i+1:] {
		if !regNameTable[c] && c != ':' {
			return false
		}
	}
	return true
}

// validIPv6 is RFC 3986's IPv6address: eight 16-bit pieces of 1 to 4
// HEXDIG, or fewer with one "::" standing for at least one zero piece; the
// last two pieces may be written as an IPv4address. No zone identifier.
func validIPv6(v []byte) bool {
	pieces, gap := 0, false
	i := 0
	if len(v) >= 2 && v[0] == ':' && v[1] == ':' {
		gap, i = true, 2
		if i == len(v) {
			return true // "::"
		}
	}
	for {
		j := i
		for j < len(v) && j-i < 5 && HexDigit(v[j]) >= 0 {
			j++
		}
		if j < len(v) && v[j] == '.' { // the IPv4 tail: the rest of the value
			if !validIPv4(v[i:]) {
				return false
			}
			pieces += 2
			break
		}
		if n := j - i; n == 0 || n > 4 {
			return false
		}
		pieces++
		if j == len(v) {
			break
		}
		if v[j] != ':' {
			return false
		}
		i = j + 1
		if i < len(v) && v[i] == ':' {
			if gap {
				return false // a second "::"
			}
			gap = true
			i++
			if i == len(v) {
				break // "...::"
			}
		} else if i == len(v) {
			return false // a trailing single ':'
		}
	}
	if gap {
		return pieces <= 7
	}
	return pieces == 8
}

// validIPv4 is IPv4address = dec-octet "." dec-octet "." dec-octet "."
// dec-octet, where dec-octet is 0 to 255 without a leading zero.
func validIPv4(v []byte) bool {
	octets := 0
	for i := 0; ; {
		j, n := i, 0
		for j < len(v) && j-i < 4 && v[j] >= '0' && v[j] <= '9' {
			n = n*10 + int(v[j]-'0')
			j++
		}
		if d := j - i; d == 0 || d > 3 || n > 255 || d > 1 && v[i] == '0' {
			return false
		}
		octets++
		if j == len(v) {
			return octets == 4
		}
		if v[j] != '.' || octets == 4 {
			return false
		}
		i = j + 1
	}
}

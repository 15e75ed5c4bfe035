package http1

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
		for i < len(v) && v[i] != ':' {
			switch c := v[i]; {
			case regNameTable[c]:
				i++
			case c == '%' && i+2 < len(v) && HexDigit(v[i+1]) >= 0 && HexDigit(v[i+2]) >= 0:
				i += 3
			default:
				return false
			}
		}
	}
	if i == len(v) {
		return true
	}
	if v[i] != ':' {
		return false // "[::1]x"
	}
	for _, c := range v[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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

package proxyproto

import "net/netip"

// The v1 text forms are parsed here rather than with netip.ParseAddr because
// that takes a string (a copy of the bytes, and an allocation once the
// compiler cannot prove it does not escape) and accepts zones. The rules are
// the spec's; FuzzTextAddr checks they agree with netip on every input that
// has no zone.

// parseIPv4 parses exactly four decimal numbers 0-255 separated by single
// dots. Leading zeros are refused, as the spec requires ("to avoid any
// possible confusion with octal numbers").
func parseIPv4(s []byte) (ip [4]byte, ok bool) {
	field, digits, val := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return ip, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return ip, false
			}
		case c == '.':
			if digits == 0 || field == 3 {
				return ip, false
			}
			ip[field] = byte(val)
			field, digits, val = field+1, 0, 0
		default:
			return ip, false
		}
	}
	if field != 3 || digits == 0 {
		return ip, false
	}
	ip[3] = byte(val)
	return ip, true
}

// parseIPv6 parses RFC 4291 text form: up to eight groups of 1-4 hex digits
// separated by colons, at most one "::" standing for one or more zero groups,
// and optionally a trailing dotted IPv4 address in the last 32 bits (the form
// inet_ntop writes for ::ffff:a.b.c.d). No zone is accepted.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // byte offset in ip where "::" stands, if any
	i, p := 0, 0   // i: bytes of ip filled; p: position in s
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, p = 0, 2
		if p == len(s) {
			return netip.AddrFrom16(ip), true
		}
	}
	for i < 16 {
		start, acc := p, 0
		for p < len(s) && p-start < 4 {
			v := unhex(s[p])
			if v < 0 {
				break
			}
			acc = acc<<4 | v
			p++
		}
		if p == start {
			return netip.Addr{}, false
		}
		if p < len(s) && s[p] == '.' {
			// The group was the first octet of a dotted IPv4 tail.
			if i > 12 || (ellipsis < 0 && i != 12) {
				return netip.Addr{}, false
			}
			v4, ok := parseIPv4(s[start:])
			if !ok {
				return netip.Addr{}, false
			}
			copy(ip[i:], v4[:])
			i, p = i+4, len(s)
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		if p == len(s) {
			break
		}
		if s[p] != ':' {
			return netip.Addr{}, false // a fifth hex digit or a stray byte
		}
		p++
		if p < len(s) && s[p] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			p++
			if p == len(s) {
				break
			}
		} else if p == len(s) {
			return netip.Addr{}, false // trailing single colon
		}
	}
	if p != len(s) {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parsePort parses a decimal 0-65535 without leading zeros.
func parsePort(s []byte) (uint16, bool) {
	if len(s) == 0 || len(s) > 5 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > 65535 {
		return 0, false
	}
	return uint16(v), true
}

// v6Prefix follows an IPv6 address byte by byte, so that a fifth hex digit,
// a second "::", a ninth group or a bad dotted tail is refused at the byte
// that makes it so. It accepts every prefix of every address parseIPv6
// accepts (FuzzTextAddr checks this); what only the end can decide (too few
// groups) is left to parseIPv6.
type v6Prefix struct {
	groups   int       // 16-bit groups completed
	digits   int       // hex digits in the current group
	colons   int       // colons just seen: 0, 1 or 2
	ellipsis bool      // "::" seen
	dotted   bool      // inside a dotted IPv4 tail
	decOK    bool      // the current group could still be a tail's first octet
	dec      numPrefix // the current group (or tail) read as decimal
}

func (v *v6Prefix) step(c byte) bool {
	if v.dotted {
		return (c == '.' || c >= '0' && c <= '9') && v.dec.step(c, classIPv4)
	}
	switch {
	case unhex(c) >= 0:
		if v.digits == 0 {
			if v.colons == 1 && v.groups == 0 && !v.ellipsis {
				return false // ":1": a leading colon not part of "::"
			}
			// A new group: it and the one "::" stands for must fit in eight.
			if v.groups+1+boolInt(v.ellipsis) > 8 {
				return false
			}
			v.decOK, v.dec = true, numPrefix{}
		}
		v.digits++
		v.colons = 0
		if c > '9' || !v.dec.step(c, classIPv4) {
			v.decOK = false
		}
		return v.digits <= 4
	case c == ':':
		switch {
		case v.digits > 0:
			v.groups++
			v.digits, v.colons = 0, 1
			// Another group must follow, or "::" standing for one.
			return v.groups+1 <= 8 && !(v.ellipsis && v.groups+1 > 7)
		case v.colons == 1:
			if v.ellipsis {
				return false
			}
			v.ellipsis, v.colons = true, 2
			return true
		case v.colons == 0 && v.groups == 0:
			v.colons = 1 // a leading colon, which must be the first of "::"
			return true
		}
		return false // ":::"
	case c == '.':
		// The current group was the first octet of a tail taking 2 groups.
		if v.digits == 0 || !v.decOK || v.groups+2+boolInt(v.ellipsis) > 8 {
			return false
		}
		if !v.ellipsis && v.groups != 6 {
			return false
		}
		v.dotted = true
		return v.dec.step(c, classIPv4)
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

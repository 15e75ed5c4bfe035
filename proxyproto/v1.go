package proxyproto

import "net/netip"

// v1Sig is the v1 signature with its mandatory single space.
const v1Sig = "PROXY "

// Field limits: the longest textual forms the spec allows.
const (
	maxIPv4Text = len("255.255.255.255")
	maxIPv6Text = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
	maxPortText = len("65535")
)

// v1 field scan classes.
const (
	classIPv4 = iota
	classIPv6
	classPort
)

// parseV1 parses "PROXY TCP4|TCP6 src dst sport dport\r\n" or
// "PROXY UNKNOWN...\r\n". It walks the line once, left to right, and fails
// at the first byte that no valid line could have there; it returns
// ErrIncomplete only when it needs a byte past len(buf).
func parseV1(buf []byte) (Header, int, error) {
	switch m := matchPrefix(buf, v1Sig); {
	case m < 0:
		if matchPrefix(buf[:min(len(buf), len(v1Sig)-1)], v1Sig) < 0 {
			return Header{}, 0, ErrNotProxy
		}
		return Header{}, 0, errV1Space // "PROXY" then something else
	case m < len(v1Sig):
		return Header{}, 0, ErrIncomplete
	}
	p := len(v1Sig)
	if p == len(buf) {
		return Header{}, 0, ErrIncomplete
	}
	var fam Family
	switch buf[p] {
	case 'T':
		p++
		if m := matchPrefix(buf[p:], "CP"); m < 0 {
			return Header{}, 0, errV1Proto
		} else if m < 2 || p+2 == len(buf) {
			return Header{}, 0, ErrIncomplete
		}
		p += 2
		switch buf[p] {
		case '4':
			fam = FamilyInet
		case '6':
			fam = FamilyInet6
		default:
			return Header{}, 0, errV1Proto
		}
		p++
	case 'U':
		return parseV1Unknown(buf, p)
	case ' ':
		return Header{}, 0, errV1Space
	default:
		return Header{}, 0, errV1Proto
	}
	if p == len(buf) {
		return Header{}, 0, ErrIncomplete
	}
	if buf[p] != ' ' {
		return Header{}, 0, errV1ProtoSpace
	}
	return parseV1Fields(buf, p+1, fam)
}

// parseV1Unknown handles "PROXY UNKNOWN": the spec says the receiver must
// ignore whatever precedes the CRLF, so only the CRLF and the 107-byte bound
// are checked.
func parseV1Unknown(buf []byte, p int) (Header, int, error) {
	const kw = "UNKNOWN"
	if m := matchPrefix(buf[p:], kw); m < 0 {
		return Header{}, 0, errV1Proto
	} else if m < len(kw) {
		return Header{}, 0, ErrIncomplete
	}
	p += len(kw)
	if p < len(buf) && buf[p] != ' ' && buf[p] != '\r' && buf[p] != '\n' {
		return Header{}, 0, errV1Proto // e.g. "UNKNOWNX"
	}
	for ; p < len(buf); p++ {
		if p+2 > maxV1Len {
			return Header{}, 0, errV1TooLong // no room left for CRLF
		}
		switch buf[p] {
		case '\n':
			return Header{}, 0, errV1BareLF
		case '\r':
			if p+1 == len(buf) {
				return Header{}, 0, ErrIncomplete
			}
			if buf[p+1] != '\n' {
				return Header{}, 0, errV1BareCR
			}
			return Header{Version: 1, Command: CommandLocal}, p + 2, nil
		}
	}
	return Header{}, 0, ErrIncomplete
}

// parseV1Fields parses "src dst sport dport\r\n" from buf[p:].
func parseV1Fields(buf []byte, p int, fam Family) (Header, int, error) {
	addrClass, errSrc, errDst := classIPv4, errV1Src4, errV1Dst4
	if fam == FamilyInet6 {
		addrClass, errSrc, errDst = classIPv6, errV1Src6, errV1Dst6
	}
	var f [4][]byte
	fieldErr := [4]*Error{errSrc, errDst, errV1SrcPort, errV1DstPort}
	for i := range f {
		class, last := addrClass, i == 3
		if i >= 2 {
			class = classPort
		}
		end, err := scanField(buf, p, class, last, fieldErr[i])
		if err != nil {
			return Header{}, 0, err
		}
		f[i], p = buf[p:end], end+1
	}
	// buf[p-1] is the CR that ended the destination port.
	if p == len(buf) {
		return Header{}, 0, ErrIncomplete
	}
	if buf[p] != '\n' {
		return Header{}, 0, errV1BareCR
	}
	src, dst, ok := parseV1Addrs(f[0], f[1], fam)
	if !ok.src {
		return Header{}, 0, errSrc
	}
	if !ok.dst {
		return Header{}, 0, errDst
	}
	sport, okS := parsePort(f[2])
	if !okS {
		return Header{}, 0, errV1SrcPort
	}
	dport, okD := parsePort(f[3])
	if !okD {
		return Header{}, 0, errV1DstPort
	}
	return Header{
		Version:   1,
		Command:   CommandProxy,
		Family:    fam,
		Transport: TransportStream,
		Source:    netip.AddrPortFrom(src, sport),
		Dest:      netip.AddrPortFrom(dst, dport),
	}, p + 1, nil
}

type addrsOK struct{ src, dst bool }

func parseV1Addrs(s, d []byte, fam Family) (src, dst netip.Addr, ok addrsOK) {
	if fam == FamilyInet {
		s4, okS := parseIPv4(s)
		d4, okD := parseIPv4(d)
		return netip.AddrFrom4(s4), netip.AddrFrom4(d4), addrsOK{okS, okD}
	}
	src, ok.src = parseIPv6(s)
	dst, ok.dst = parseIPv6(d)
	return src, dst, ok
}

// scanField finds the end of the field starting at buf[p]: the index of the
// space after it (or of the CR, for the last field). It refuses a byte the
// field's class cannot contain and a field longer than the class allows as
// soon as it sees them, and also a number that is already too big or has a
// leading zero, or an IPv6 address that no more bytes could make valid. What
// only the field's end can decide (too few octets or groups) is checked by
// the full parse once the delimiter is in.
func scanField(buf []byte, p, class int, last bool, bad *Error) (int, error) {
	maxLen := [...]int{classIPv4: maxIPv4Text, classIPv6: maxIPv6Text, classPort: maxPortText}[class]
	var num numPrefix
	var v6 v6Prefix
	for q := p; q < len(buf); q++ {
		c := buf[q]
		switch {
		case inClass(c, class):
			if q-p == maxLen {
				return 0, bad
			}
			if class == classIPv6 && !v6.step(c) || class != classIPv6 && !num.step(c, class) {
				return 0, bad
			}
			continue
		case q == p && (c == ' ' || c == '\r'):
			return 0, errV1Empty
		case c == '\n':
			return 0, errV1BareLF
		case c == ' ' && !last:
			return q, nil
		case c == '\r' && last:
			return q, nil
		case c == '\r':
			return 0, errV1Fields
		case c == ' ':
			return 0, errV1Trailing
		}
		return 0, bad
	}
	return 0, ErrIncomplete
}

// numPrefix follows a dotted-quad or a port digit by digit, so that "256",
// "01" or a fifth octet is refused at the byte that makes it invalid.
type numPrefix struct {
	digits, val, dots int
}

func (n *numPrefix) step(c byte, class int) bool {
	if c == '.' { // only classIPv4 lets a dot through
		if n.digits == 0 || n.dots == 3 {
			return false
		}
		n.dots, n.digits, n.val = n.dots+1, 0, 0
		return true
	}
	if n.digits == 1 && n.val == 0 {
		return false // leading zero
	}
	n.val = n.val*10 + int(c-'0')
	n.digits++
	if class == classIPv4 {
		return n.val <= 255
	}
	return n.val <= 65535
}

func inClass(c byte, class int) bool {
	switch class {
	case classIPv4:
		return c >= '0' && c <= '9' || c == '.'
	case classIPv6:
		// Dots for the dotted IPv4 tail that inet_ntop writes in ::ffff:a.b.c.d.
		return unhex(c) >= 0 || c == ':' || c == '.'
	}
	return c >= '0' && c <= '9'
}

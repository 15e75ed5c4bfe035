package proxyproto

import "net/netip"

// MaxHeaderLen bounds a header of either version. The spec designs both to
// fit in the smallest TCP segment every host must accept (576 - 40 = 536
// bytes), so a v2 length field that promises more is refused rather than
// waited for: a peer cannot make the worker hold a 64 KiB prefix. A v1 line
// is at most 107 bytes.
const MaxHeaderLen = 536

// maxV1Len is the spec's longest v1 line, CRLF included:
// "PROXY UNKNOWN " + two 39-byte IPv6 addresses + two 5-digit ports + CRLF.
const maxV1Len = 107

// Command is a v2 header's command. A v1 header is always CommandProxy,
// except "PROXY UNKNOWN", which is CommandLocal.
type Command uint8

const (
	// CommandLocal: the proxy opened the connection itself (a health check);
	// the connection's own addresses stand.
	CommandLocal Command = 0
	// CommandProxy: the proxy relays a client; the header names it.
	CommandProxy Command = 1
)

// Family is the address family the header announces.
type Family uint8

const (
	FamilyUnspec Family = 0 // AF_UNSPEC, or v1 UNKNOWN
	FamilyInet   Family = 1 // AF_INET, or v1 TCP4
	FamilyInet6  Family = 2 // AF_INET6, or v1 TCP6
	FamilyUnix   Family = 3 // AF_UNIX (v2 only; its paths are skipped)
)

// Transport is the transport protocol the header announces.
type Transport uint8

const (
	TransportUnspec Transport = 0
	TransportStream Transport = 1 // TCP (every v1 TCP4/TCP6 line)
	TransportDgram  Transport = 2 // UDP
)

// Header is a parsed PROXY header. It holds no reference to the parsed bytes.
type Header struct {
	Version   uint8 // 1 or 2
	Command   Command
	Family    Family
	Transport Transport
	// Source and Dest are the client's address and the address it connected
	// to, as the proxy saw them. They are valid only if HasAddrs reports
	// true. A v6 address may be an IPv4-mapped one (::ffff:a.b.c.d), as the
	// sender wrote it.
	Source, Dest netip.AddrPort
}

// HasAddrs reports whether the header carries IP addresses that replace the
// connection's own. It is false for v1 UNKNOWN, v2 LOCAL, and v2 PROXY
// headers whose family is UNSPEC or UNIX or whose transport is UNSPEC: the
// spec tells the receiver to use the real connection's addresses then.
func (h *Header) HasAddrs() bool { return h.Source.IsValid() }

// Addrs returns the addresses the server should use for the connection: the
// header's if it has them, otherwise the connection's own peer and local
// addresses, passed in.
func (h *Header) Addrs(peer, local netip.AddrPort) (remote, dest netip.AddrPort) {
	if h.HasAddrs() {
		return h.Source, h.Dest
	}
	return peer, local
}

// Parse parses the PROXY header at the start of buf, the bytes received on
// the connection so far. On success it returns the header and its length n
// (the payload starts at buf[n]); n is never more than len(buf) or
// MaxHeaderLen. Otherwise it returns ErrIncomplete (a valid prefix: read
// more and call again with the grown buffer), ErrNotProxy (not a PROXY
// header at all) or an *Error (a malformed one). Parse keeps no state,
// never allocates and never reads past len(buf); the result for a prefix of
// buf is either ErrIncomplete or the same as for buf.
func Parse(buf []byte) (h Header, n int, err error) {
	if len(buf) == 0 {
		return Header{}, 0, ErrIncomplete
	}
	switch buf[0] {
	case v1Sig[0]:
		return parseV1(buf)
	case v2Sig[0]:
		return parseV2(buf)
	}
	return Header{}, 0, ErrNotProxy
}

// matchPrefix compares buf with the start of sig. It returns the number of
// matching bytes if all of min(len(buf), len(sig)) match, or -1 at the first
// difference.
func matchPrefix(buf []byte, sig string) int {
	n := min(len(buf), len(sig))
	for i := 0; i < n; i++ {
		if buf[i] != sig[i] {
			return -1
		}
	}
	return n
}

package proxyproto

import (
	"fmt"
	"net/netip"
	"strings"
)

// Allow is the set of peers trusted to send a PROXY header: the
// -proxy-from CIDR[,CIDR...] list. The zero Allow trusts nobody. It
// implements flag.Value, so the flag may also be repeated; each use adds to
// the list. Build it at startup; Contains is safe for concurrent use once
// building is done.
type Allow struct {
	prefixes []netip.Prefix
}

// ParseAllow parses a comma-separated list of CIDR prefixes ("10.0.0.0/8,
// fd00::/8"). A bare address means that one host. Host bits past the prefix
// length are cleared (10.1.2.3/8 is 10.0.0.0/8), and an IPv4-mapped IPv6
// prefix (::ffff:10.0.0.0/104) is stored as the IPv4 one, since Contains
// compares unmapped addresses.
func ParseAllow(list string) (Allow, error) {
	var a Allow
	err := a.Set(list)
	return a, err
}

// Set adds the prefixes in list to a (flag.Value). On error a is unchanged
// and the error names the item that is not a prefix.
func (a *Allow) Set(list string) error {
	var add []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		p, err := parsePrefix(item)
		if err != nil {
			return fmt.Errorf("proxyproto: -proxy-from: %q is not a CIDR prefix or IP address: %w", item, err)
		}
		add = append(add, p)
	}
	a.prefixes = append(a.prefixes, add...)
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("empty item")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not allowed")
		}
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	if ip := p.Addr(); ip.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix shorter than /96 covers non-IPv4 addresses")
		}
		p = netip.PrefixFrom(ip.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Contains reports whether addr is in the list. An IPv4-mapped address (a
// dual-stack listener's view of an IPv4 peer) matches IPv4 prefixes, and a
// zone is ignored. It does not allocate.
func (a *Allow) Contains(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range a.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Len is the number of prefixes; zero means no peer may send a header.
func (a *Allow) Len() int { return len(a.prefixes) }

// String lists the prefixes as Set accepts them (flag.Value).
func (a *Allow) String() string {
	if a == nil {
		return ""
	}
	var b strings.Builder
	for i, p := range a.prefixes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

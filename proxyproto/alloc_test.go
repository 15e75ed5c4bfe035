//go:build !race

package proxyproto

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseAllocatesNothing: Parse runs on the event loop for every new
// connection from a proxy, so it must not allocate, whatever it answers.
func TestParseAllocatesNothing(t *testing.T) {
	crc := withCRC(v2(0x21, 0x11, 12+7, cat(addrs4, tlv(tlvCRC32C, 0, 0, 0, 0))...), 16+12+3)
	for name, in := range map[string][]byte{
		"v1 TCP4":        []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n" + payload),
		"v1 TCP6":        []byte("PROXY TCP6 " + ffff6 + " ::ffff:10.0.0.1 65535 1\r\n"),
		"v1 UNKNOWN":     []byte("PROXY UNKNOWN\r\n"),
		"v1 incomplete":  []byte("PROXY TCP6 2001:db8::1 "),
		"v1 malformed":   []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
		"not proxy":      []byte("GET / HTTP/1.1\r\n"),
		"v2 TCP4":        v2(0x21, 0x11, 12, addrs4...),
		"v2 TCP6":        v2(0x21, 0x21, 36, addrs6...),
		"v2 CRC32C":      crc,
		"v2 LOCAL":       v2(0x20, 0x00, 0),
		"v2 bad TLV":     v2(0x21, 0x11, 14, cat(addrs4, []byte{1, 0})...),
		"v2 incomplete":  v2(0x21, 0x11, 12, addrs4[:5]...),
		"v2 too long":    v2(0x21, 0x11, 9000),
		"v2 bad version": v2(0x11, 0x11, 12, addrs4...),
	} {
		var sink Header
		allocs := testing.AllocsPerRun(200, func() {
			h, _, _ := Parse(in)
			sink = h
		})
		require.Zero(t, allocs, "%s: allocations per Parse", name)
		_ = sink
	}
}

func TestAllowContainsAllocatesNothing(t *testing.T) {
	a, err := ParseAllow("10.0.0.0/8,192.168.1.0/24,fd00::/8,::1")
	require.NoError(t, err)
	addrs := []netip.Addr{
		netip.MustParseAddr("10.9.8.7"), netip.MustParseAddr("::ffff:192.168.1.4"),
		netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("8.8.8.8"),
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, ip := range addrs {
			a.Contains(ip)
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkParse(b *testing.B) {
	for name, in := range map[string][]byte{
		"v1-tcp4": []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
		"v1-tcp6": []byte("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"),
		"v2-tcp4": v2(0x21, 0x11, 12, addrs4...),
		"v2-tcp6": v2(0x21, 0x21, 36, addrs6...),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

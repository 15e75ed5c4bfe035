package proxyproto

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are the table tests' inputs plus the shapes HAProxy sends.
func fuzzSeeds() [][]byte {
	seeds := [][]byte{
		[]byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n"),
		[]byte("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
		[]byte("PROXY TCP6 " + ffff6 + " " + ffff6 + " 65535 65535\r\n"),
		[]byte("PROXY TCP6 ::1 ::ffff:10.0.0.1 1 2\r\n"),
		[]byte("PROXY TCP6 1:2:3:4:5:6:1.2.3.4 ::1 1 2\r\n"),
		[]byte("PROXY UNKNOWN\r\n"),
		[]byte("PROXY UNKNOWN " + ffff6 + " " + ffff6 + " 65535 65535\r\n"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
		[]byte("GET / HTTP/1.1\r\n"),
		v2(0x21, 0x11, 12, addrs4...),
		v2(0x21, 0x21, 36, addrs6...),
		v2(0x21, 0x12, 12, addrs4...),
		v2(0x21, 0x31, 216, unixAddrs...),
		v2(0x20, 0x00, 0),
		v2(0x20, 0xFF, 3, 1, 2, 3),
		v2(0x21, 0x11, 12+7, cat(addrs4, tlv(0x01, 'h', '2'), tlv(0x04, 0))...),
		withCRC(v2(0x21, 0x11, 12+7, cat(addrs4, tlv(tlvCRC32C, 0, 0, 0, 0))...), 16+12+3),
		v2(0x21, 0x11, 14, cat(addrs4, []byte{1, 0})...),
		v2(0x21, 0x11, 521),
	}
	return seeds
}

// FuzzParse checks Parse against its own contract on any input: no panic;
// never consuming more than given (nor more than MaxHeaderLen); always
// deciding once MaxHeaderLen bytes are in; the input left untouched; every
// prefix answering ErrIncomplete or exactly what the whole does (so a header
// fed in pieces, split anywhere, parses as when fed whole); and an accepted
// header re-encoding, with AppendV1 or AppendV2, to one that parses to the
// same addresses.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		h, n, err := Parse(in)
		if !bytes.Equal(orig, in) {
			t.Fatalf("Parse wrote to its input")
		}
		if err != nil {
			require.Zero(t, n)
			require.Equal(t, Header{}, h)
			if err != ErrIncomplete && err != ErrNotProxy {
				var e *Error
				require.ErrorAs(t, err, &e)
			}
		} else {
			require.Positive(t, n)
			require.LessOrEqual(t, n, len(in))
			require.LessOrEqual(t, n, MaxHeaderLen)
		}
		if len(in) >= MaxHeaderLen {
			require.NotEqual(t, ErrIncomplete, err, "undecided after MaxHeaderLen bytes")
		}
		checkPrefixes(t, in)
		if err != nil {
			return
		}
		checkReencode(t, h)
	})
}

func checkReencode(t *testing.T, h Header) {
	switch h.Version {
	case 1:
		enc := AppendV1(nil, h)
		got, n, err := Parse(enc)
		require.NoError(t, err, "re-encoded %q", enc)
		require.Equal(t, len(enc), n)
		require.Equal(t, h, got, "re-encoded %q", enc)
	case 2:
		enc := AppendV2(nil, h, nil)
		got, n, err := Parse(enc)
		require.NoError(t, err, "re-encoded %x", enc)
		require.Equal(t, len(enc), n)
		require.Equal(t, h.HasAddrs(), got.HasAddrs())
		require.Equal(t, h.Source, got.Source)
		require.Equal(t, h.Dest, got.Dest)
		if h.HasAddrs() {
			require.Equal(t, h, got)
			// The same client said in v1 parses to the same addresses.
			v1, _, err := Parse(AppendV1(nil, h))
			require.NoError(t, err)
			require.Equal(t, h.Source, v1.Source)
			require.Equal(t, h.Dest, v1.Dest)
		}
	default:
		t.Fatalf("version %d", h.Version)
	}
}

// FuzzTextAddr checks the v1 address parsers against net/netip on any
// string: they accept exactly what netip.ParseAddr accepts as an IPv4 or a
// zone-less IPv6 address, with the same value.
func FuzzTextAddr(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4", "01.2.3.4", "255.255.255.255", "256.0.0.0", "1.2.3", "1.2.3.4.5", "::", "::1",
		"1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8",
		"::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4", "1::1.2.3.4", "::ffff:01.2.3.4",
		"fe80::1%eth0", "12345::", ":1::", "1:::2", ffff6, "0:0:0:0:0:0:0:0", "1.2.3.4:5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, refErr := netip.ParseAddr(s)
		v4, ok4 := parseIPv4([]byte(s))
		want4 := refErr == nil && ref.Is4()
		require.Equal(t, want4, ok4, "IPv4 %q: netip says %v", s, refErr)
		if ok4 {
			require.Equal(t, ref, netip.AddrFrom4(v4))
		}
		v6, ok6 := parseIPv6([]byte(s))
		want6 := refErr == nil && ref.Is6() && ref.Zone() == ""
		if strings.Contains(s, "%") {
			want6 = false
		}
		require.Equal(t, want6, ok6, "IPv6 %q: netip says %v", s, refErr)
		if ok6 {
			require.Equal(t, ref, v6)
		}
		// The byte-by-byte checker never refuses a prefix of a valid address
		// (scanField relies on it to refuse early without refusing a good one).
		var st v6Prefix
		steps := true
		for i := 0; i < len(s) && steps; i++ {
			steps = inClass(s[i], classIPv6) && st.step(s[i])
		}
		if ok6 {
			require.True(t, steps, "v6Prefix refused a prefix of valid %q", s)
		}
	})
}

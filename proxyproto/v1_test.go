package proxyproto

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	ffff6   = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	payload = "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"
)

func TestParseV1Valid(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       Header
	}{
		{"spec example", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
		{"longest TCP4 (56 bytes)", "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("255.255.255.255:65535"), Dest: ap("255.255.255.255:65535")}},
		{"zeros", "PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("0.0.0.0:0"), Dest: ap("10.0.0.1:0")}},
		{"longest TCP6 (104 bytes)", "PROXY TCP6 " + ffff6 + " " + ffff6 + " 65535 65535\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet6, Transport: TransportStream,
				Source: ap("[" + ffff6 + "]:65535"), Dest: ap("[" + ffff6 + "]:65535")}},
		{"TCP6 short forms", "PROXY TCP6 ::1 2001:DB8::a:1 1 80\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet6, Transport: TransportStream,
				Source: ap("[::1]:1"), Dest: ap("[2001:db8::a:1]:80")}},
		{"TCP6 unspecified and full groups", "PROXY TCP6 :: 0001:0:0:0:0:0:0:1 5 6\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet6, Transport: TransportStream,
				Source: ap("[::]:5"), Dest: ap("[1::1]:6")}},
		{"TCP6 IPv4-mapped as inet_ntop writes it", "PROXY TCP6 ::ffff:10.1.2.3 ::ffff:10.0.0.1 40000 8080\r\n",
			Header{Version: 1, Command: CommandProxy, Family: FamilyInet6, Transport: TransportStream,
				Source: ap("[::ffff:10.1.2.3]:40000"), Dest: ap("[::ffff:10.0.0.1]:8080")}},
		{"UNKNOWN short form (15 bytes)", "PROXY UNKNOWN\r\n",
			Header{Version: 1, Command: CommandLocal}},
		{"UNKNOWN worst case (107 bytes)", "PROXY UNKNOWN " + ffff6 + " " + ffff6 + " 65535 65535\r\n",
			Header{Version: 1, Command: CommandLocal}},
		{"UNKNOWN ignores what precedes CRLF", "PROXY UNKNOWN not even addresses \x00\x7f\r\n",
			Header{Version: 1, Command: CommandLocal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.line + payload)
			h, n, err := Parse(in)
			require.NoError(t, err)
			require.Equal(t, len(tc.line), n, "header length")
			require.Equal(t, tc.want, h)
			require.Equal(t, payload, string(in[n:]), "payload starts right after the CRLF")
			require.Equal(t, tc.want.Command == CommandProxy, h.HasAddrs())
			checkPrefixes(t, in)
		})
	}
	require.Len(t, "PROXY UNKNOWN "+ffff6+" "+ffff6+" 65535 65535\r\n", maxV1Len, "the spec's worst case")
}

func TestParseV1Malformed(t *testing.T) {
	const ok4 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"HTTP request", "GET / HTTP/1.1\r\n", ErrNotProxy},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00", ErrNotProxy},
		{"lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", ErrNotProxy},
		{"PROXX", "PROXX TCP4", ErrNotProxy},
		{"leading space", " PROXY TCP4", ErrNotProxy},
		{"tab after PROXY", "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", errV1Space},
		{"PROXY then CRLF", "PROXY\r\n", errV1Space},
		{"two spaces after PROXY", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", errV1Space},
		{"TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", errV1Proto},
		{"UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", errV1Proto},
		{"lower-case protocol", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", errV1Proto},
		{"TCP alone", "PROXY TCP 1.2.3.4", errV1Proto},
		{"UNKNOWNX", "PROXY UNKNOWNX\r\n", errV1Proto},
		{"UNKNOW", "PROXY UNKNOW\r\n", errV1Proto},
		{"protocol then CRLF", "PROXY TCP4\r\n", errV1ProtoSpace},
		{"TCP44", "PROXY TCP44 1.2.3.4", errV1ProtoSpace},
		{"UNKNOWN bare LF", "PROXY UNKNOWN\n", errV1BareLF},
		{"UNKNOWN bare CR", "PROXY UNKNOWN\rGET", errV1BareCR},
		{"UNKNOWN LF inside", "PROXY UNKNOWN a\nb\r\n", errV1BareLF},
		{"UNKNOWN 108 bytes", "PROXY UNKNOWN " + repeat("x", 92) + "\r\n", errV1TooLong},
		{"UNKNOWN no CRLF in 107", "PROXY UNKNOWN " + repeat("x", 200), errV1TooLong},
		{"src leading zero", "PROXY TCP4 192.168.0.01 5.6.7.8 1 2\r\n", errV1Src4},
		{"src octet 256", "PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n", errV1Src4},
		{"src three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", errV1Src4},
		{"src five octets", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", errV1Src4},
		{"src empty octet", "PROXY TCP4 1..2.3 5.6.7.8 1 2\r\n", errV1Src4},
		{"src trailing dot", "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", errV1Src4},
		{"src too long", "PROXY TCP4 1.2.3.4444444444444 5.6.7.8 1 2\r\n", errV1Src4},
		{"src IPv6 in TCP4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", errV1Src4},
		{"src hex", "PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n", errV1Src4},
		{"dst leading zero", "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n", errV1Dst4},
		{"dst IPv6 in TCP4", "PROXY TCP4 1.2.3.4 ::1 1 2\r\n", errV1Dst4},
		{"two spaces before dst", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", errV1Empty},
		{"two spaces before dport", "PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", errV1Empty},
		{"no dport", "PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", errV1Empty},
		{"sport 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", errV1SrcPort},
		{"sport leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", errV1SrcPort},
		{"sport 00", "PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", errV1SrcPort},
		{"sport plus sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", errV1SrcPort},
		{"sport six digits", "PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n", errV1SrcPort},
		{"dport negative", "PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", errV1DstPort},
		{"dport 99999", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", errV1DstPort},
		{"dport letter", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", errV1DstPort},
		{"space before CRLF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", errV1Trailing},
		{"extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", errV1Trailing},
		{"bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", errV1BareLF},
		{"bare CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rGET", errV1BareCR},
		{"CR CR LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", errV1BareCR},
		{"LF inside an address", "PROXY TCP4 1.2.3.4\n", errV1BareLF},
		{"no dport at all", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", errV1Fields},
		{"no ports", "PROXY TCP4 1.2.3.4 5.6.7.8\r\n", errV1Fields},
		{"no dst", "PROXY TCP4 1.2.3.4\r\n", errV1Fields},
		{"src IPv4 in TCP6", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", errV1Src6},
		{"src two ellipses", "PROXY TCP6 1::2::3 ::1 1 2\r\n", errV1Src6},
		{"src five hex digits", "PROXY TCP6 12345::1 ::1 1 2\r\n", errV1Src6},
		{"src nine groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", errV1Src6},
		{"src seven groups", "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", errV1Src6},
		{"src ellipsis for no group", "PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n", errV1Src6},
		{"src trailing colon", "PROXY TCP6 1:2:3:4:5:6:7: ::1 1 2\r\n", errV1Src6},
		{"src leading colon", "PROXY TCP6 :1:2:3:4:5:6:7 ::1 1 2\r\n", errV1Src6},
		{"src 40 bytes", "PROXY TCP6 " + ffff6 + "f ::1 1 2\r\n", errV1Src6},
		{"src bad mapped tail", "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", errV1Src6},
		{"src letter g", "PROXY TCP6 fe8g::1 ::1 1 2\r\n", errV1Src6},
		{"dst zone", "PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n", errV1Dst6},
		{"dst brackets", "PROXY TCP6 ::1 [::1] 1 2\r\n", errV1Dst6},
		{"NUL in address", "PROXY TCP4 1.2.\x003.4 5.6.7.8 1 2\r\n", errV1Src4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in + payload)
			_, n, err := Parse(in)
			require.Equal(t, tc.want, err, "got %v", err)
			require.Zero(t, n)
			checkPrefixes(t, in)
		})
	}
	_, n, err := Parse([]byte(ok4))
	require.NoError(t, err, "the base line the cases above break")
	require.Equal(t, len(ok4), n)
}

// TestParseV1Incomplete: every proper prefix of a valid line asks for more,
// however it is cut, and a line one byte short of its CRLF does too.
func TestParseV1Incomplete(t *testing.T) {
	for _, in := range []string{
		"", "P", "PROXY", "PROXY ", "PROXY T", "PROXY TCP", "PROXY TCP4", "PROXY TCP4 ",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r",
		"PROXY TCP6 ::1", "PROXY UNKNOWN", "PROXY UNKNOWN junk", "PROXY UNKNOWN\r",
		"PROXY UNKNOWN " + repeat("x", 91) + "\r",
	} {
		_, n, err := Parse([]byte(in))
		require.Equal(t, ErrIncomplete, err, "%q", in)
		require.Zero(t, n)
	}
}

// TestParseRefusesEarly: a peer that is not a proxy is refused at its first
// byte, and a malformed header at the first byte that cannot belong to a
// valid one, without waiting for the CRLF.
func TestParseRefusesEarly(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"G", ErrNotProxy},
		{"\x16", ErrNotProxy},
		{"PRX", ErrNotProxy},
		{"\r\n\r\n\x00\r\nQUIT\r", ErrNotProxy},
		{"PROXY_", errV1Space},
		{"PROXY X", errV1Proto},
		{"PROXY TCP4 1.2.3.4x", errV1Src4},
		{"PROXY TCP4 1.2.3.256", errV1Src4},
		{"PROXY TCP4 01", errV1Src4},
		{"PROXY TCP4 1.2.3.4.", errV1Src4},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 65536", errV1SrcPort},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 1 00", errV1DstPort},
		{"PROXY TCP6 ::g", errV1Src6},
		{"PROXY TCP6 1::2::", errV1Src6},
		{"PROXY TCP6 12345", errV1Src6},
		{"PROXY TCP6 :1", errV1Src6},
		{"PROXY TCP6 :::", errV1Src6},
		{"PROXY TCP6 1:2:3:4:5:6:7:8:", errV1Src6},
		{"PROXY TCP6 1::3:4:5:6:7:8:", errV1Src6},
		{"PROXY TCP6 1:2:3:4:5:1.", errV1Src6},
		{"PROXY TCP6 ::a.", errV1Src6},
		{"PROXY TCP6 ::ffff:1.2.3.4.", errV1Src6},
		{"PROXY TCP6 ::ffff:1.2.3.256", errV1Src6},
		{"PROXY TCP6 ::1 ::ffff:1.2.3:", errV1Dst6},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", errV1BareLF},
	} {
		_, _, err := Parse([]byte(tc.in))
		require.Equal(t, tc.want, err, "%q", tc.in)
		_, _, err = Parse([]byte(tc.in[:len(tc.in)-1]))
		require.Equal(t, ErrIncomplete, err, "%q minus its last byte is still a valid prefix", tc.in)
	}
}

func TestErrorMessages(t *testing.T) {
	require.Equal(t, "proxyproto: v1: source port is not a decimal number 0-65535 without leading zeros", errV1SrcPort.Error())
	var e *Error
	_, _, err := Parse([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"))
	require.ErrorAs(t, err, &e)
	require.Contains(t, e.Reason, "source port")
}

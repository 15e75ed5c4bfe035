package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	addrs4 = []byte{192, 168, 0, 1, 192, 168, 0, 11, 0xDC, 0x04, 0x01, 0xBB} // :56324 -> :443
	addrs6 = cat(
		[]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1},
		[]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2},
		[]byte{0x30, 0x39, 0x00, 0x50}, // 12345 -> 80
	)
	unixAddrs = make([]byte, 216)
)

// tlv encodes one TLV.
func tlv(typ byte, val ...byte) []byte {
	return append([]byte{typ, byte(len(val) >> 8), byte(len(val))}, val...)
}

// withCRC fills in the CRC32C TLV whose value starts at hdr[at:]; the
// checksum is over the whole header with that field zero (spec 2.2.3).
func withCRC(hdr []byte, at int) []byte {
	clear(hdr[at : at+4])
	binary.BigEndian.PutUint32(hdr[at:], crc32.Checksum(hdr, crc32.MakeTable(crc32.Castagnoli)))
	return hdr
}

func TestParseV2Valid(t *testing.T) {
	crcHdr := withCRC(v2(0x21, 0x11, 12+7, cat(addrs4, tlv(tlvCRC32C, 0, 0, 0, 0))...), 16+12+3)
	pad := 536 - 16 - 12 - 3
	for _, tc := range []struct {
		name string
		in   []byte
		want Header
	}{
		{"TCP over IPv4", v2(0x21, 0x11, 12, addrs4...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
		{"UDP over IPv4", v2(0x21, 0x12, 12, addrs4...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet, Transport: TransportDgram,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
		{"TCP over IPv6", v2(0x21, 0x21, 36, addrs6...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet6, Transport: TransportStream,
				Source: ap("[2001:db8::1]:12345"), Dest: ap("[2001:db8::2]:80")}},
		{"UNIX stream: no IP, the connection's own stand", v2(0x21, 0x31, 216, unixAddrs...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyUnix, Transport: TransportStream}},
		{"PROXY with AF_UNSPEC", v2(0x21, 0x00, 0),
			Header{Version: 2, Command: CommandProxy}},
		{"INET with UNSPEC transport: addresses ignored", v2(0x21, 0x10, 12, addrs4...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet}},
		{"LOCAL (health check)", v2(0x20, 0x00, 0), Header{Version: 2, Command: CommandLocal}},
		{"LOCAL with addresses: ignored", v2(0x20, 0x11, 12, addrs4...), Header{Version: 2, Command: CommandLocal}},
		{"LOCAL with an invalid family: block skipped", v2(0x20, 0xFF, 5, 1, 2, 3, 4, 5), Header{Version: 2, Command: CommandLocal}},
		{"TLVs skipped", v2(0x21, 0x11, 12+3+2+3+0+3+4, cat(addrs4, tlv(0x01, 'h', '2'), tlv(0x04), tlv(0xE0, 1, 2, 3, 4))...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
		{"valid CRC32C", crcHdr,
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
		{"exactly MaxHeaderLen", v2(0x21, 0x11, 536-16, cat(addrs4, tlv(0x04, make([]byte, pad)...))...),
			Header{Version: 2, Command: CommandProxy, Family: FamilyInet, Transport: TransportStream,
				Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cat(tc.in, []byte(payload))
			h, n, err := Parse(in)
			require.NoError(t, err)
			require.Equal(t, len(tc.in), n, "header length is 16 + the length field")
			require.Equal(t, tc.want, h)
			require.Equal(t, payload, string(in[n:]))
			checkPrefixes(t, in)
		})
	}
}

func TestParseV2Malformed(t *testing.T) {
	badCRC := withCRC(v2(0x21, 0x11, 12+7, cat(addrs4, tlv(tlvCRC32C, 0, 0, 0, 0))...), 16+12+3)
	badCRC[17]++ // an address byte changed after the checksum was made
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"version 1 nibble", v2(0x11, 0x11, 12, addrs4...), errV2Version},
		{"version 3 nibble", v2(0x31, 0x11, 12, addrs4...), errV2Version},
		{"version 0 nibble", v2(0x01, 0x11, 12, addrs4...), errV2Version},
		{"command 2", v2(0x22, 0x11, 12, addrs4...), errV2Command},
		{"command 15", v2(0x2F, 0x11, 12, addrs4...), errV2Command},
		{"family 4", v2(0x21, 0x41, 12, addrs4...), errV2Family},
		{"family 15", v2(0x21, 0xF1, 12, addrs4...), errV2Family},
		{"transport 3", v2(0x21, 0x13, 12, addrs4...), errV2Transport},
		{"length 521 (537 total)", v2(0x21, 0x11, 521, make([]byte, 521)...), errV2TooLong},
		{"length 65535", v2(0x21, 0x11, 65535), errV2TooLong},
		{"INET length 11", v2(0x21, 0x11, 11, addrs4[:11]...), errV2Short},
		{"INET length 0", v2(0x21, 0x11, 0), errV2Short},
		{"INET6 length 35", v2(0x21, 0x21, 35, addrs6[:35]...), errV2Short},
		{"INET6 with INET's length", v2(0x21, 0x21, 12, addrs4...), errV2Short},
		{"UNIX length 215", v2(0x21, 0x31, 215, unixAddrs[:215]...), errV2Short},
		{"2 bytes after the addresses (no room for a TLV header)", v2(0x21, 0x11, 14, cat(addrs4, []byte{1, 0})...), errV2TLV},
		{"TLV longer than the header", v2(0x21, 0x11, 12+3+1, cat(addrs4, []byte{0x01, 0, 2, 'h'})...), errV2TLV},
		{"second TLV runs past the header", v2(0x21, 0x11, 12+3+3, cat(addrs4, tlv(0x04), []byte{0x02, 0xFF, 0xFF})...), errV2TLV},
		{"TLV in a LOCAL header runs past it", v2(0x20, 0x00, 3, 0x05, 0, 9), errV2TLV},
		{"CRC32C of 3 bytes", v2(0x21, 0x11, 12+6, cat(addrs4, tlv(tlvCRC32C, 1, 2, 3))...), errV2CRCLen},
		{"CRC32C mismatch", badCRC, errV2CRC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cat(tc.in, []byte(payload))
			_, n, err := Parse(in)
			require.Equal(t, tc.want, err, "got %v", err)
			require.Zero(t, n)
			checkPrefixes(t, in)
		})
	}
}

// TestParseV2Signature: a change to any byte of the 12-byte signature makes
// the input not a PROXY header, decided at that byte.
func TestParseV2Signature(t *testing.T) {
	good := v2(0x21, 0x11, 12, addrs4...)
	for i := range len(v2Sig) {
		in := append([]byte(nil), good...)
		in[i] ^= 0x40
		_, _, err := Parse(in[:i+1])
		require.Equal(t, ErrNotProxy, err, "signature byte %d changed", i)
		_, _, err = Parse(in)
		require.Equal(t, ErrNotProxy, err, "signature byte %d changed", i)
	}
}

// TestParseV2DecidesFromFixedPart: everything the 16 fixed bytes can refuse
// is refused before the rest of the header arrives, so an oversized length
// never makes the caller wait for (or buffer) the bytes it promises.
func TestParseV2DecidesFromFixedPart(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		need int
		want error
	}{
		{v2(0x11, 0x11, 12), 13, errV2Version},
		{v2(0x23, 0x11, 12), 13, errV2Command},
		{v2(0x21, 0x51, 12), 14, errV2Family},
		{v2(0x21, 0x1F, 12), 14, errV2Transport},
		{v2(0x21, 0x11, 60000), 16, errV2TooLong},
		{v2(0x21, 0x21, 12), 16, errV2Short},
	} {
		_, _, err := Parse(tc.in[:tc.need])
		require.Equal(t, tc.want, err)
		_, _, err = Parse(tc.in[:tc.need-1])
		require.Equal(t, ErrIncomplete, err)
	}
	_, _, err := Parse(v2(0x21, 0x11, 12, addrs4[:11]...))
	require.Equal(t, ErrIncomplete, err, "a valid fixed part waits for its address block")
}

// TestAppendRoundTrip: the encoders write what Parse reads back, for both
// versions and both families.
func TestAppendRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Source: ap("10.1.2.3:4000"), Dest: ap("10.0.0.1:80")},
		{Source: ap("[2001:db8::7]:1"), Dest: ap("[::1]:65535")},
		{Source: ap("[::ffff:10.1.2.3]:4000"), Dest: ap("[::ffff:10.0.0.1]:80")},
	} {
		h.Command, h.Transport = CommandProxy, TransportStream
		h.Family = FamilyInet6
		if h.Source.Addr().Is4() {
			h.Family = FamilyInet
		}
		for _, version := range []uint8{1, 2} {
			var enc []byte
			if version == 1 {
				enc = AppendV1(nil, h)
			} else {
				enc = AppendV2(nil, h, tlv(0x04, 0))
			}
			got, n, err := Parse(enc)
			require.NoError(t, err, "%q", enc)
			require.Equal(t, len(enc), n)
			want := h
			want.Version = version
			require.Equal(t, want, got, "%q", enc)
		}
	}
	require.Equal(t, "PROXY UNKNOWN\r\n", string(AppendV1(nil, Header{})))
	require.Equal(t, "PROXY UNKNOWN\r\n", string(AppendV1(nil, Header{Source: ap("1.2.3.4:1"), Dest: ap("[::1]:2")})), "mixed families")
	got, n, err := Parse(AppendV2(nil, Header{Command: CommandLocal}, nil))
	require.NoError(t, err)
	require.Equal(t, 16, n)
	require.Equal(t, Header{Version: 2, Command: CommandLocal}, got)
}

func TestHeaderAddrs(t *testing.T) {
	peer, local := ap("127.0.0.1:5000"), ap("127.0.0.1:8080")
	h, _, err := Parse([]byte("PROXY TCP4 203.0.113.9 198.51.100.1 41000 443\r\n"))
	require.NoError(t, err)
	r, d := h.Addrs(peer, local)
	require.Equal(t, ap("203.0.113.9:41000"), r)
	require.Equal(t, ap("198.51.100.1:443"), d)
	for _, in := range [][]byte{[]byte("PROXY UNKNOWN\r\n"), v2(0x20, 0x00, 0), v2(0x21, 0x31, 216, unixAddrs...)} {
		h, _, err := Parse(in)
		require.NoError(t, err)
		require.False(t, h.HasAddrs(), "%q", in)
		r, d := h.Addrs(peer, local)
		require.Equal(t, peer, r, "no override: the connection's own peer")
		require.Equal(t, local, d)
	}
}

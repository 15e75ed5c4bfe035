package proxyproto

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
)

// TestHTTPParserRefusesHeaders: on a connection from an address not in
// Allow, the worker need not call Parse: uringd's own HTTP parser refuses
// any PROXY header, of either version, as a malformed request (400, close),
// so a client outside -proxy-from cannot pass a header off as its address.
func TestHTTPParserRefusesHeaders(t *testing.T) {
	const req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	for name, hdr := range map[string][]byte{
		"v1 TCP4":    []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
		"v1 TCP6":    []byte("PROXY TCP6 ::1 ::1 1 2\r\n"),
		"v1 UNKNOWN": []byte("PROXY UNKNOWN\r\n"),
		"v2 TCP4":    v2(0x21, 0x11, 12, addrs4...),
		"v2 TCP6":    v2(0x21, 0x21, 36, addrs6...),
		"v2 LOCAL":   v2(0x20, 0x00, 0),
	} {
		in := cat(hdr, []byte(req))
		r := http1.Request{Headers: make([]http1.Header, 0, 8)}
		_, err := http1.ParseHead(in, 0, &r, &http1.DefaultLimits)
		var e *http1.Error
		require.ErrorAs(t, err, &e, "%s: http1 said %v", name, err)
		require.Equal(t, 400, e.Status, name)
		_, n, err := Parse(in)
		require.NoError(t, err, name)
		_, err = http1.ParseHead(in[n:], 0, &r, &http1.DefaultLimits)
		require.NoError(t, err, "%s: the request after the header is fine", name)
	}
}

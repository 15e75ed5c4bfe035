package http1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParserPending(t *testing.T) {
	head := crlf("POST / HTTP/1.1\nHost: h\nContent-Length: 10\n\n")
	p := newParser(&DefaultLimits)
	var req Request
	require.Zero(t, p.Pending())
	_, err := p.Next(head[:5], &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.Zero(t, p.Pending(), "head not complete")
	buf := append(head, "abc"...)
	_, err = p.Next(buf, &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.Equal(t, len(head)+10, p.Pending())
	buf = append(buf, "defghij"...)
	n, err := p.Next(buf, &req)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	require.Equal(t, "abcdefghij", string(req.Body))
	require.Zero(t, p.Pending(), "request complete")

	chunked := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nab")
	_, err = p.Next(chunked, &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.True(t, p.InBody())
	require.Zero(t, p.Pending(), "chunked: length unknown")
}

// A chunked body in 1-byte chunks is six times its size on the wire; kept
// while it arrives, it must cost its decoded size.
func TestParserCompactBodyKeepsDecodedBytes(t *testing.T) {
	p := newParser(&DefaultLimits)
	var req Request
	head := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n")
	buf := append([]byte(nil), head...)
	want := ""
	for i := 0; i < 100; i++ {
		c := string(rune('a' + i%26))
		want += c
		buf = append(buf, "1\r\n"+c+"\r\n"...)
		if i%7 == 3 {
			buf = append(buf, "1\r"...) // an unfinished size line
		}
		_, err := p.Next(buf, &req)
		require.ErrorIs(t, err, ErrIncomplete)
		buf = buf[:p.CompactBody(buf)]
		if i%7 == 3 {
			require.Equal(t, len(head)+len(want)+2, len(buf))
			buf = buf[:len(buf)-2] // as if that line never came; it comes whole next time
		} else {
			require.Equal(t, len(head)+len(want), len(buf))
		}
	}
	buf = append(buf, "0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"...)
	n, err := p.Next(buf, &req)
	require.NoError(t, err)
	require.Equal(t, want, string(req.Body))
	require.Equal(t, "GET", string(buf[n:n+3]))
	require.Equal(t, len(buf), len(buf[:p.CompactBody(buf)]), "no body in progress")
}

// Framing is bounded relative to the body: 1-byte chunks pass, a body that
// is mostly chunk extensions does not, compacted or not.
func TestChunkFramingBoundedByBody(t *testing.T) {
	for _, compact := range []bool{false, true} {
		lim := DefaultLimits
		p := newParser(&lim)
		var req Request
		buf := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n")
		var err error
		for i := 0; i < 20000; i++ {
			buf = append(buf, "1\r\nx\r\n"...)
			_, err = p.Next(buf, &req)
			require.ErrorIs(t, err, ErrIncomplete, "1-byte chunks (compact %v)", compact)
			if compact {
				buf = buf[:p.CompactBody(buf)]
			}
		}
		ext := ";" + strings.Repeat("e", 4000)
		for i := 0; i < 100 && err == ErrIncomplete; i++ {
			buf = append(buf, "1"+ext+"\r\nx\r\n"...)
			_, err = p.Next(buf, &req)
			if compact {
				buf = buf[:p.CompactBody(buf)]
			}
		}
		require.Equal(t, errFramingTooLarge, err, "compact %v", compact)
	}
}

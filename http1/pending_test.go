package http1

import (
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

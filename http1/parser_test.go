package http1

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParserPipeline(t *testing.T) {
	in := crlf("GET /1 HTTP/1.1\nHost: h\n\n" +
		"POST /2 HTTP/1.1\nHost: h\nContent-Length: 3\n\nabc" +
		"POST /3 HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n2\nxy\n0\n\n" +
		"GET /4 HTTP/1.1\nHost: h\n\n")
	p := newParser(&DefaultLimits)
	var req Request
	var paths, bodies []string
	for len(in) > 0 {
		n, err := p.Next(in, &req)
		require.NoError(t, err)
		paths = append(paths, string(req.Path))
		bodies = append(bodies, string(req.Body))
		in = in[n:]
	}
	require.Equal(t, []string{"/1", "/2", "/3", "/4"}, paths)
	require.Equal(t, []string{"", "abc", "xy", ""}, bodies)
}

func TestParserNeedContinue(t *testing.T) {
	head := crlf("PUT / HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 4\n\n")
	p := newParser(&DefaultLimits)
	var req Request
	require.False(t, p.NeedContinue())
	_, err := p.Next(head[:10], &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.False(t, p.InBody())
	_, err = p.Next(head, &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.True(t, p.InBody())
	require.True(t, p.NeedContinue())
	require.False(t, p.NeedContinue(), "reported once")
	buf := append(append([]byte(nil), head...), "da"...)
	_, err = p.Next(buf, &req)
	require.ErrorIs(t, err, ErrIncomplete)
	require.False(t, p.NeedContinue())
	buf = append(buf, "ta"...)
	n, err := p.Next(buf, &req)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	require.Equal(t, "data", string(req.Body))
	require.True(t, req.ExpectContinue)
	require.False(t, p.InBody())

	// The whole request at once: nothing to continue.
	_, err = p.Next(buf, &req)
	require.NoError(t, err)
	require.False(t, p.NeedContinue())
}

// TestParserErrorIsFinal: after a framing error nothing that follows may be
// read as a request (the next bytes could be a smuggled one).
func TestParserErrorIsFinal(t *testing.T) {
	p := newParser(&DefaultLimits)
	var req Request
	bad := crlf("POST / HTTP/1.1\nHost: h\nContent-Length: 1\nContent-Length: 2\n\n")
	_, err := p.Next(bad, &req)
	require.Equal(t, errDupCL, err)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 400, e.Status)
	_, err = p.Next(crlf("GET / HTTP/1.1\nHost: h\n\n"), &req)
	require.Equal(t, errDupCL, err)
}

func TestParserHeaderStorage(t *testing.T) {
	var p Parser
	p.Init(&DefaultLimits, make([]Header, 2)) // storage smaller than MaxHeaders
	var req Request
	_, err := p.Next(crlf("GET / HTTP/1.1\nHost: h\nA: 1\n\n"), &req)
	require.NoError(t, err)
	require.Equal(t, "1", string(req.Header("a")))
	require.Equal(t, "h", string(req.Header("HOST")))
	require.Nil(t, req.Header("B"))
	_, err = p.Next(crlf("GET / HTTP/1.1\nHost: h\nA: 1\nB: 2\n\n"), &req)
	require.Equal(t, errTooManyHeaders, err)
}

// TestParseHeadPrevLen: a head arriving in pieces is parsed once it is
// complete, and a limit is enforced while it is still incomplete.
func TestParseHeadPrevLen(t *testing.T) {
	in := crlf("GET / HTTP/1.1\nHost: h\nX: 1\n\n")
	req := Request{Headers: make([]Header, 0, 8)}
	prev := 0
	for k := 1; k <= len(in); k++ {
		n, err := ParseHead(in[:k], prev, &req, &DefaultLimits)
		if k < len(in) {
			require.ErrorIs(t, err, ErrIncomplete, "at %d", k)
			prev = k
			continue
		}
		require.NoError(t, err)
		require.Equal(t, len(in), n)
	}
	lim := Limits{MaxURI: 100, MaxHeaderBytes: 64, MaxHeaders: 8, MaxBody: 10}
	long := crlf("GET / HTTP/1.1\nHost: h\nX: 0123456789012345678901234567890123456789")
	_, err := ParseHead(long[:40], 0, &req, &lim)
	require.ErrorIs(t, err, ErrIncomplete)
	_, err = ParseHead(long, 40, &req, &lim)
	require.Equal(t, errHeaderTooLarge, err)
}

func TestParserInitDefaults(t *testing.T) {
	var p Parser
	p.Init(&Limits{MaxBody: 3}, make([]Header, 8))
	require.Equal(t, DefaultLimits.MaxHeaderBytes, p.lim.MaxHeaderBytes)
	var req Request
	_, err := p.Next(crlf("POST / HTTP/1.1\nHost: h\nContent-Length: 4\n\n"), &req)
	require.Equal(t, errBodyTooLarge, err)
	p.Init(nil, make([]Header, 8))
	require.Equal(t, DefaultLimits, p.lim)
}

// TestParserSharedHeaderStorage: two connections' parsers share one header
// array, and a request whose body arrives late on one connection is not
// disturbed by a request parsed on the other meanwhile.
func TestParserSharedHeaderStorage(t *testing.T) {
	shared := make([]Header, 0, 8)
	var a, b Parser
	a.Init(&DefaultLimits, shared)
	b.Init(&DefaultLimits, shared)
	var req Request
	inA := crlf("POST /a HTTP/1.1\nHost: a\nContent-Length: 2\n\nxy")
	_, err := a.Next(inA[:len(inA)-1], &req)
	require.ErrorIs(t, err, ErrIncomplete)
	_, err = b.Next(crlf("GET /b HTTP/1.1\nHost: b\nX: 1\n\n"), &req)
	require.NoError(t, err)
	require.Equal(t, "b", string(req.Host))
	_, err = a.Next(inA, &req)
	require.NoError(t, err)
	require.Equal(t, []Header{{Name: []byte("Host"), Value: []byte("a")},
		{Name: []byte("Content-Length"), Value: []byte("2")}}, req.Headers)
	require.Equal(t, "xy", string(req.Body))
}

package http1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// acceptCases are valid requests and what they parse to. They also seed
// the fuzz targets.
var acceptCases = []struct {
	name string
	in   string // "\n" becomes CRLF
	want parsed // N is filled in from len(in) when 0
}{
	{
		name: "wrk GET",
		in:   "GET / HTTP/1.1\nHost: localhost:8080\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 1,
			Headers: []string{"Host: localhost:8080"}, Host: "localhost:8080", ContentLength: -1},
	},
	{
		name: "query split and OWS trimmed",
		in:   "GET /a/b?x=1&y=2 HTTP/1.1\nHost:h\nX-A: \t v w \t\n\n",
		want: parsed{Method: "GET", Target: "/a/b?x=1&y=2", Path: "/a/b", Query: "x=1&y=2", HasQuery: true,
			ProtoMinor: 1, Headers: []string{"Host: h", "X-A: v w"}, Host: "h", ContentLength: -1},
	},
	{
		name: "empty query",
		in:   "GET /? HTTP/1.1\nHost: h\n\n",
		want: parsed{Method: "GET", Target: "/?", Path: "/", HasQuery: true, ProtoMinor: 1,
			Headers: []string{"Host: h"}, Host: "h", ContentLength: -1},
	},
	{
		name: "leading empty lines ignored (RFC 9112 §2.2)",
		in:   "\n\nGET / HTTP/1.1\nHost: h\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 1,
			Headers: []string{"Host: h"}, Host: "h", ContentLength: -1},
	},
	{
		name: "HTTP/1.0 closes by default, no Host needed",
		in:   "GET /x HTTP/1.0\n\n",
		want: parsed{Method: "GET", Target: "/x", Path: "/x", ProtoMinor: 0, ContentLength: -1, Close: true},
	},
	{
		name: "HTTP/1.0 keep-alive",
		in:   "GET / HTTP/1.0\nConnection: Keep-Alive\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 0, ContentLength: -1,
			Headers: []string{"Connection: Keep-Alive"}, KeepAlive10: true},
	},
	{
		name: "HTTP/1.1 Connection: close in a list",
		in:   "GET / HTTP/1.1\nHost: h\nConnection: foo, CLOSE\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 1, ContentLength: -1,
			Headers: []string{"Host: h", "Connection: foo, CLOSE"}, Host: "h", Close: true},
	},
	{
		name: "Content-Length body",
		in:   "POST /echo HTTP/1.1\nHost: h\nContent-Length: 5\n\nhello",
		want: parsed{Method: "POST", Target: "/echo", Path: "/echo", ProtoMinor: 1, ContentLength: 5,
			Headers: []string{"Host: h", "Content-Length: 5"}, Host: "h", Body: "hello"},
	},
	{
		name: "Content-Length zero",
		in:   "POST / HTTP/1.1\nHost: h\nContent-Length: 0\n\n",
		want: parsed{Method: "POST", Target: "/", Path: "/", ProtoMinor: 1, ContentLength: 0,
			Headers: []string{"Host: h", "Content-Length: 0"}, Host: "h"},
	},
	{
		name: "chunked with extensions and trailers",
		in: "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n" +
			"5;name=val\nhello\n1 ; a\n,\nA\n 012345678\n0\nX-T: v\n\n",
		want: parsed{Method: "POST", Target: "/", Path: "/", ProtoMinor: 1, ContentLength: -1,
			Headers: []string{"Host: h", "Transfer-Encoding: chunked"}, Host: "h", Chunked: true,
			Body: "hello, 012345678"},
	},
	{
		name: "chunked empty body",
		in:   "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: Chunked\n\n000\n\n",
		want: parsed{Method: "POST", Target: "/", Path: "/", ProtoMinor: 1, ContentLength: -1,
			Headers: []string{"Host: h", "Transfer-Encoding: Chunked"}, Host: "h", Chunked: true},
	},
	{
		name: "Expect: 100-continue",
		in:   "PUT /u HTTP/1.1\nHost: h\nExpect: 100-Continue\nContent-Length: 2\n\nok",
		want: parsed{Method: "PUT", Target: "/u", Path: "/u", ProtoMinor: 1, ContentLength: 2,
			Headers: []string{"Host: h", "Expect: 100-Continue", "Content-Length: 2"}, Host: "h",
			ExpectContinue: true, Body: "ok"},
	},
	{
		name: "Expect ignored in HTTP/1.0 (RFC 9110 §10.1.1)",
		in:   "GET / HTTP/1.0\nExpect: 100-continue\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 0, ContentLength: -1,
			Headers: []string{"Expect: 100-continue"}, Close: true},
	},
	{
		name: "absolute-form",
		in:   "GET http://example.com:80/p?q HTTP/1.1\nHost: example.com\n\n",
		want: parsed{Method: "GET", Target: "http://example.com:80/p?q", Path: "/p", Query: "q", HasQuery: true,
			ProtoMinor: 1, Headers: []string{"Host: example.com"}, Host: "example.com", ContentLength: -1},
	},
	{
		name: "asterisk-form, empty header value, obs-text in value",
		in:   "OPTIONS * HTTP/1.1\nHost: h\nX-Empty:\nX-Utf8: caf\xc3\xa9\n\n",
		want: parsed{Method: "OPTIONS", Target: "*", Path: "*", ProtoMinor: 1, ContentLength: -1,
			Headers: []string{"Host: h", "X-Empty: ", "X-Utf8: caf\xc3\xa9"}, Host: "h"},
	},
	{
		name: "empty Host allowed",
		in:   "GET / HTTP/1.1\nHost:\n\n",
		want: parsed{Method: "GET", Target: "/", Path: "/", ProtoMinor: 1, ContentLength: -1,
			Headers: []string{"Host: "}, Host: ""},
	},
}

func TestParseAccepts(t *testing.T) {
	for _, tt := range acceptCases {
		t.Run(tt.name, func(t *testing.T) {
			in := crlf(tt.in)
			got := feedEveryWay(t, in, &testLimits)
			require.NoError(t, got.err)
			want := tt.want
			if want.N == 0 {
				want.N = len(in)
			}
			require.Equal(t, want, got.req)
		})
	}
}

var (
	long = strings.Repeat("a", 300)
	many = strings.Repeat("X: y\n", 17)
	big  = strings.Repeat("X-Long: "+strings.Repeat("v", 100)+"\n", 10)
)

// rejectCases hold one input per strict rule (with testLimits); they also
// seed the fuzz targets.
var rejectCases = []struct {
	name string
	in   string // "\n" becomes CRLF; "\r" stays raw, <LF> is a bare LF
	want *Error
}{
	// RFC 9112 §6.1: both framings.
	{"TE and CL", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nContent-Length: 5\n\n", errTEAndCL},
	{"CL and TE", "POST / HTTP/1.1\nHost: h\nContent-Length: 5\nTransfer-Encoding: chunked\n\n", errTEAndCL},
	// RFC 9110 §8.6, RFC 9112 §6.3: Content-Length must be one decimal number.
	{"duplicate CL same value", "POST / HTTP/1.1\nHost: h\nContent-Length: 5\nContent-Length: 5\n\nhello", errDupCL},
	{"differing CL", "POST / HTTP/1.1\nHost: h\nContent-Length: 5\nContent-Length: 6\n\nhello", errDupCL},
	{"CL list", "POST / HTTP/1.1\nHost: h\nContent-Length: 5, 5\n\nhello", errBadCL},
	{"CL sign", "POST / HTTP/1.1\nHost: h\nContent-Length: +5\n\nhello", errBadCL},
	{"CL negative", "POST / HTTP/1.1\nHost: h\nContent-Length: -1\n\n", errBadCL},
	{"CL hex", "POST / HTTP/1.1\nHost: h\nContent-Length: 0x5\n\n", errBadCL},
	{"CL empty", "POST / HTTP/1.1\nHost: h\nContent-Length:\n\n", errBadCL},
	{"CL overflow", "POST / HTTP/1.1\nHost: h\nContent-Length: 99999999999999999999\n\n", errBadCL},
	// RFC 9112 §6.1: transfer codings.
	{"TE gzip", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip\n\n", errUnsupportedTE},
	{"TE gzip, chunked", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip, chunked\n\n", errUnsupportedTE},
	{"TE identity", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: identity\n\n", errUnsupportedTE},
	{"TE chunked not last", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked, gzip\n\n", errChunkedNotLast},
	{"TE chunked twice", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n", errChunkedNotLast},
	{"TE empty", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: ,\n\n", errBadTE},
	{"TE in HTTP/1.0", "POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n0\n\n", errTEHTTP10},
	// RFC 9112 §5.2, §2.2: obs-fold and whitespace before the first field.
	{"obs-fold", "GET / HTTP/1.1\nHost: h\nX: a\n b\n\n", errObsFold},
	{"obs-fold tab", "GET / HTTP/1.1\nHost: h\nX: a\n\tb\n\n", errObsFold},
	{"space before first field", "GET / HTTP/1.1\n Host: h\n\n", errObsFold},
	// RFC 9112 §5.1: no whitespace between name and colon.
	{"space before colon", "GET / HTTP/1.1\nHost : h\n\n", errSpaceBeforeColon},
	{"tab before colon", "GET / HTTP/1.1\nHost\t: h\n\n", errSpaceBeforeColon},
	// RFC 9110 §5.1: field-name = token.
	{"invalid name byte", "GET / HTTP/1.1\nHost: h\nX(y): z\n\n", errBadFieldName},
	{"non-ASCII name", "GET / HTTP/1.1\nHost: h\nX\xc3\xa9: z\n\n", errBadFieldName},
	{"empty name", "GET / HTTP/1.1\nHost: h\n: z\n\n", errEmptyFieldName},
	{"line without colon", "GET / HTTP/1.1\nHost: h\nnocolon\n\n", errNoColon},
	// RFC 9112 §2.2: bare CR must be rejected; we also require CRLF.
	{"bare CR in value", "GET / HTTP/1.1\nHost: h\nX: a\rb\n\n", errBareCR},
	{"bare CR ending a line", "GET / HTTP/1.1\nHost: h\rX: a\n\n", errBareCR},
	{"bare CR after request line", "GET / HTTP/1.1\rHost: h\n\n", errBareCR},
	{"bare LF after request line", "GET / HTTP/1.1<LF>Host: h\n\n", errBareLF},
	{"bare LF ending a field", "GET / HTTP/1.1\nHost: h<LF>X: y\n\n", errBareLF},
	{"bare LF ending the head", "GET / HTTP/1.1\nHost: h\n<LF>\n", errBareLF},
	{"NUL in value", "GET / HTTP/1.1\nHost: h\nX: a\x00b\n\n", errBadFieldValue},
	{"DEL in value", "GET / HTTP/1.1\nHost: h\nX: a\x7fb\n\n", errBadFieldValue},
	// RFC 9112 §3.2: control bytes in the target.
	{"NUL in target", "GET /a\x00b HTTP/1.1\nHost: h\n\n", errTargetCTL},
	{"tab in target", "GET /a\tb HTTP/1.1\nHost: h\n\n", errTargetCTL},
	{"DEL in target", "GET /a\x7f HTTP/1.1\nHost: h\n\n", errTargetCTL},
	{"CR in target", "GET /a\rb HTTP/1.1\nHost: h\n\n", errTargetCTL},
	// RFC 9112 §3: request-line shape.
	{"two spaces", "GET  / HTTP/1.1\nHost: h\n\n", errBadRequestLine},
	{"empty method", " / HTTP/1.1\nHost: h\n\n", errBadMethod},
	{"bad method byte", "G(T / HTTP/1.1\nHost: h\n\n", errBadMethod},
	{"no version", "GET /\nHost: h\n\n", errTargetCTL},
	{"lower-case version", "GET / http/1.1\nHost: h\n\n", errBadVersion},
	{"version with junk", "GET / HTTP/1.1x\nHost: h\n\n", errBadVersion},
	{"two-digit minor", "GET / HTTP/1.10\nHost: h\n\n", errBadVersion},
	// RFC 9110 §15.6.6: a version we do not speak.
	{"HTTP/2.0", "GET / HTTP/2.0\nHost: h\n\n", errVersion},
	{"HTTP/1.2", "GET / HTTP/1.2\nHost: h\n\n", errVersion},
	{"HTTP/0.9", "GET / HTTP/0.9\n\n", errVersion},
	// RFC 9112 §3.2: Host.
	{"missing Host", "GET / HTTP/1.1\nX: y\n\n", errNoHost},
	{"two Host", "GET / HTTP/1.1\nHost: a\nHost: b\n\n", errDupHost},
	{"bad Host", "GET / HTTP/1.1\nHost: a b\n\n", errBadHost},
	// Limits.
	{"URI too long", "GET /" + long + " HTTP/1.1\nHost: h\n\n", errURITooLong},
	{"too many headers", "GET / HTTP/1.1\nHost: h\n" + many + "\n", errTooManyHeaders},
	{"header section too large", "GET / HTTP/1.1\nHost: h\n" + big + "\n", errHeaderTooLarge},
	{"CL over MaxBody", "POST / HTTP/1.1\nHost: h\nContent-Length: 1025\n\n", errBodyTooLarge},
	{"chunked over MaxBody", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n401\n", errBodyTooLarge},
	{"chunked sum over MaxBody", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n" +
		"200\n" + strings.Repeat("x", 512) + "\n201\n", errBodyTooLarge},
	// RFC 9112 §7.1: chunk framing.
	{"chunk size not hex", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\nxyz\n", errBadChunkSize},
	{"chunk size empty", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n\n", errBadChunkSize},
	{"chunk size negative", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n-1\n", errBadChunkSize},
	{"chunk size 17 digits", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n00000000000000001\n", errBadChunkSize},
	{"chunk size trailing space", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5 \n", errBadChunkExt},
	{"chunk ext with CTL", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5;a\x01\n", errBadChunkExt},
	{"chunk size bare LF", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5<LF>hello\n0\n\n", errBareLF},
	{"chunk data too long", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nhelloX\n0\n\n", errChunkNoCRLF},
	{"chunk data bare CR", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nhello\rX0\n\n", errChunkNoCRLF},
	{"chunk line too long", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5;" + strings.Repeat("e", 4100) + "\n", errChunkLineLong},
	{"trailer obs-fold", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: b\n c\n\n", errObsFold},
	{"trailer no colon", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nbad\n\n", errNoColon},
	{"trailer CTL", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: \x01\n\n", errBadFieldValue},
	{"trailers too large", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\n" + big + "\n", errTrailerTooLarge},
}

// TestParseRejects: each input is also split at every byte and fed one
// byte at a time, and must fail the same way.
func TestParseRejects(t *testing.T) {
	for _, tt := range rejectCases {
		t.Run(tt.name, func(t *testing.T) {
			got := feedEveryWay(t, crlf(tt.in), &testLimits)
			require.Equal(t, tt.want, got.err, "got %v", got)
		})
	}
}

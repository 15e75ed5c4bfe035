package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// stricter lists the rules on which we refuse what net/http's ReadRequest
// accepts, and why; the differential oracle allows a refusal only for these.
// (Several are enforced by net/http's server after ReadRequest, not by
// ReadRequest itself.)
var stricter = map[*Error]string{
	errDupCL:            "net/http accepts repeated identical Content-Length; RFC 9110 §8.6 allows refusing",
	errTEAndCL:          "net/http lets chunked override Content-Length; RFC 9112 §6.1 allows refusing, which cannot desync a proxy",
	errTEHTTP10:         "net/http ignores Transfer-Encoding in HTTP/1.0; RFC 9112 §6.1 says the framing is faulty",
	errObsFold:          "net/http unfolds obs-fold; RFC 9112 §5.2 allows 400",
	errSpaceBeforeColon: "net/http keeps the space in the name; RFC 9112 §5.1 says MUST reject",
	errBareLF:           "net/http accepts LF line ends; RFC 9112 §2.2 allows requiring CRLF",
	errNoHost:           "net/http's server, not ReadRequest, enforces Host (RFC 9112 §3.2)",
	errBadHost:          "net/http's server, not ReadRequest, validates Host",
	errVersion:          "ReadRequest parses any HTTP/d.d; net/http's server answers 505",
	errBadTarget:        "net/http takes any URI (\"a:b\"); RFC 9112 §3.2 allows only four target forms",
	errBadChunkExt:      "net/http trims whitespace after the chunk size and ignores extension bytes; RFC 9112 §7.1.1 has neither",
	errTrailerTooLarge:  "limit",
	errURITooLong:       "limit",
	errHeaderTooLarge:   "limit",
	errTooManyHeaders:   "limit",
	errBodyTooLarge:     "limit",
}

// fuzzLimits are large enough that limits rarely decide a fuzz input.
var fuzzLimits = Limits{MaxURI: 8 << 10, MaxHeaderBytes: 16 << 10, MaxHeaders: 128, MaxBody: 1 << 20}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.http"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range acceptCases {
		f.Add(crlf(c.in))
	}
	for _, c := range rejectCases {
		f.Add(crlf(c.in))
	}
}

// FuzzParseRequest checks the parser against itself (whole, split, one
// byte at a time) and against net/http.
//
// picohttpparser's tests put the input against a guard page to catch reads
// past the end; here every access is bounds-checked (http1 uses no unsafe),
// so such a read is a panic the fuzzer reports, and the inputs are fresh
// copies of exactly len(in) bytes.
func FuzzParseRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRequest(t, in)
	})
}

// FuzzChunked puts the input after a chunked request head, so the fuzzer
// spends its effort on the chunked grammar.
func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"0\n\n", "5\nhello\n0\n\n", "5;a=b\nhello\n3 ;x\nabc\n0\nT: v\n\n",
		"A\n0123456789\n0\n\n", "1\nx\n0\n\nGET / HTTP/1.1\nHost: h\n\n",
		"5 \nhello\n0\n\n", "ffffffffffffffff\n", "5\nhelloXX0\n\n", "0\nA: b\n c\n\n",
	} {
		f.Add(crlf(s))
	}
	head := crlf("POST /c HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n")
	f.Fuzz(func(t *testing.T, body []byte) {
		in := append(slices.Clip(head), body...)
		checkRequest(t, in)
		checkDecoderIncremental(t, body)
		checkBodyReader(t, body)
	})
}

// sameOutcome: the same result however the bytes arrive. One difference is
// allowed: after a first ErrIncomplete, ParseHead waits for the end of the
// head (or the size limit) before parsing again, so an error inside an
// unfinished head shows later than in one call — but it never turns into
// a success.
func sameOutcome(whole, split outcome) bool {
	if split.err == ErrIncomplete {
		_, isErr := whole.err.(*Error)
		return isErr || whole.err == ErrIncomplete
	}
	return whole.String() == split.String()
}

func checkRequest(t *testing.T, in []byte) {
	ours := feedWhole(in, &fuzzLimits)
	if len(in) > 1 {
		split := feedChunks(in, &fuzzLimits, []int{len(in) / 3, 2 * len(in) / 3})
		if !sameOutcome(ours, split) {
			t.Fatalf("split differs:\nwhole %v\nsplit %v", ours, split)
		}
	}
	if len(in) <= 300 {
		var cuts []int
		for k := 1; k < len(in); k++ {
			cuts = append(cuts, k)
		}
		if got := feedChunks(in, &fuzzLimits, cuts); !sameOutcome(ours, got) {
			t.Fatalf("byte at a time differs:\nwhole %v\nbytes %v", ours, got)
		}
	}
	if ours.err == nil && (ours.req.N <= 0 || ours.req.N > len(in)) {
		t.Fatalf("consumed %d of %d", ours.req.N, len(in))
	}

	std, stdN, ok := readStd(in)
	if !ok {
		return // net/http refuses: we may accept or refuse
	}
	if ours.err == ErrIncomplete {
		// net/http read a request out of a prefix we think is
		// unfinished: only possible if it was lenient about framing.
		t.Fatalf("net/http accepted %d bytes, we want more", stdN)
	}
	if e, isErr := ours.err.(*Error); isErr {
		if _, listed := stricter[e]; !listed {
			t.Fatalf("we refuse (%v) what net/http accepts: %+v", e, std)
		}
		return
	}
	compareStd(t, in, &ours.req, std, stdN)
}

// stdReq is what net/http made of the input.
type stdReq struct {
	method, uri, host string
	header            http.Header
	body              string
	close             bool
}

// readStd runs http.ReadRequest and reads the whole body; ok is false if
// either fails. n is the number of bytes consumed.
func readStd(in []byte) (r stdReq, n int, ok bool) {
	rd := bytes.NewReader(in)
	br := bufio.NewReader(rd)
	req, err := http.ReadRequest(br)
	if err != nil {
		return r, 0, false
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return r, 0, false
	}
	n = len(in) - rd.Len() - br.Buffered()
	return stdReq{method: req.Method, uri: req.RequestURI, host: req.Host, header: req.Header,
		body: string(body), close: req.Close}, n, true
}

func compareStd(t *testing.T, in []byte, ours *parsed, std stdReq, stdN int) {
	t.Helper()
	// Framing first: a different length is a smuggling bug.
	if ours.N != stdN || ours.Body != std.body {
		t.Fatalf("framing differs: we consumed %d with body %q, net/http %d with body %q\ninput %q",
			ours.N, ours.Body, stdN, std.body, in)
	}
	if ours.Method != std.method || ours.Target != std.uri {
		t.Fatalf("request line differs: %q %q vs %q %q", ours.Method, ours.Target, std.method, std.uri)
	}
	if ours.Close != std.close {
		t.Fatalf("Close differs: %v vs %v for %q", ours.Close, std.close, in)
	}
	if ours.Target[0] == '/' && ours.Host != std.host {
		t.Fatalf("Host differs: %q vs %q", ours.Host, std.host)
	}
	// net/http moves these out of the Header map.
	got := http.Header{}
	for _, h := range ours.Headers {
		name, value, _ := bytes.Cut([]byte(h), []byte(": "))
		got[textproto.CanonicalMIMEHeaderKey(string(name))] = append(
			got[textproto.CanonicalMIMEHeaderKey(string(name))], string(value))
	}
	want := std.header.Clone()
	for _, k := range []string{"Host", "Transfer-Encoding", "Trailer"} {
		delete(got, k)
		delete(want, k)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Fatalf("header %s differs: %q vs %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("headers differ: %q vs %q", got, want)
	}
}

// checkDecoderIncremental feeds the decoder directly, whole and one byte
// at a time (moving the bytes to a new buffer each time).
func checkDecoderIncremental(t *testing.T, body []byte) {
	var d ChunkedDecoder
	d.Reset(1<<20, 4096)
	whole := append([]byte(nil), body...)
	wb, wn, werr := d.Decode(whole)
	d.Reset(1<<20, 4096)
	var buf []byte
	var gb []byte
	var gn int
	var gerr error = ErrIncomplete
	for k := 0; k < len(body) && gerr == ErrIncomplete; k++ {
		nb := append(append(make([]byte, 0, k+1), buf...), body[k])
		buf = nb
		gb, gn, gerr = d.Decode(buf)
	}
	if len(body) == 0 {
		return
	}
	if werr != gerr || wn != gn || !bytes.Equal(wb, gb) {
		t.Fatalf("decoder: whole (%q, %d, %v) vs bytewise (%q, %d, %v)", wb, wn, werr, gb, gn, gerr)
	}
}

// TestCorpusAgreesWithNetHTTP: every real request is accepted by both
// parsers with the same result, so the oracle's comparison path is
// exercised by plain `go test`, not only when fuzzing.
func TestCorpusAgreesWithNetHTTP(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.http"))
	if err != nil || len(files) < 10 {
		t.Fatalf("corpus: %v, %d files", err, len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			in, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			ours := feedEveryWay(t, in, &fuzzLimits)
			if ours.err != nil {
				t.Fatal(ours.err)
			}
			std, n, ok := readStd(in)
			if !ok {
				t.Fatal("net/http refuses a real request")
			}
			compareStd(t, in, &ours.req, std, n)
		})
	}
}

// TestAcceptCasesAgreeWithNetHTTP: the hand-written valid requests agree
// with net/http wherever it accepts them (it refuses the leading empty line).
func TestAcceptCasesAgreeWithNetHTTP(t *testing.T) {
	var refused []string
	for _, c := range acceptCases {
		in := crlf(c.in)
		ours := feedWhole(in, &fuzzLimits)
		if std, n, ok := readStd(in); ok {
			compareStd(t, in, &ours.req, std, n)
		} else {
			refused = append(refused, c.name)
		}
	}
	t.Logf("net/http refuses: %q", refused)
}

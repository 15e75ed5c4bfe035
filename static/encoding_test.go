package static

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
)

const allCodings = 1<<codingBr | 1<<codingZstd | 1<<codingGzip

func reqWith(values ...string) *Request {
	r := &Request{Method: []byte("GET"), Path: []byte("/")}
	for _, v := range values {
		r.Headers = append(r.Headers, http1.Header{Name: []byte("Accept-Encoding"), Value: []byte(v)})
	}
	return r
}

func codingName(c coding) string {
	if c == identity {
		return "identity"
	}
	return codings[c].token
}

// TestChooseCoding: RFC 9110 §12.5.3 negotiation against the siblings on
// disk: q-values, q=0 as "not acceptable", "*", case-insensitive names,
// x-gzip, identity's weight, several fields, and identity whenever the
// header is absent, empty or malformed.
func TestChooseCoding(t *testing.T) {
	const (
		br   = 1 << codingBr
		zstd = 1 << codingZstd
		gz   = 1 << codingGzip
	)
	for _, tc := range []struct {
		hdr   []string // nil: no Accept-Encoding field
		avail uint8
		want  string
	}{
		{nil, allCodings, "identity"},
		{[]string{""}, allCodings, "identity"},
		{[]string{"gzip, deflate, br, zstd"}, allCodings, "br"},
		{[]string{"gzip, deflate, br, zstd"}, zstd | gz, "zstd"},
		{[]string{"gzip, deflate, br, zstd"}, gz, "gzip"},
		{[]string{"gzip, deflate, br"}, zstd, "identity"},
		{[]string{"gzip, deflate, br, zstd"}, 0, "identity"},
		{[]string{"gzip;q=1.0, br;q=0.5"}, allCodings, "gzip"},
		{[]string{"gzip;q=0.001, br;q=0"}, allCodings, "gzip"},
		{[]string{"br;q=0, zstd;q=0, gzip;q=0"}, allCodings, "identity"},
		{[]string{"GZIP"}, gz, "gzip"},
		{[]string{"Br;Q=0.9"}, br, "br"},
		{[]string{"x-gzip"}, gz, "gzip"},
		{[]string{"*"}, allCodings, "br"},
		{[]string{"*;q=0.5, gzip"}, allCodings, "gzip"},
		{[]string{"*, br;q=0"}, br | gz, "gzip"},
		{[]string{"*;q=0"}, allCodings, "identity"},
		{[]string{"identity"}, allCodings, "identity"},
		{[]string{"identity;q=1, gzip;q=0.5"}, gz, "identity"},
		{[]string{"identity;q=0.5, gzip;q=0.5"}, gz, "gzip"},
		{[]string{"identity;q=0, gzip;q=0.5"}, gz, "gzip"},
		{[]string{"identity;q=0"}, gz, "identity"}, // nothing else acceptable: send it anyway
		{[]string{"br;q=0.5, *"}, br, "identity"},  // "*" weighs identity 1 > 0.5
		{[]string{"gzip;q=0.5"}, gz, "gzip"},       // unlisted identity loses
		{[]string{"gzip;q=0.8, zstd;q=0.8, br;q=0.7"}, allCodings, "zstd"},
		{[]string{"gzip", "br"}, allCodings, "br"}, // fields combine
		{[]string{"gzip;q=0", "gzip"}, gz, "identity"},
		{[]string{" , ,gzip , "}, gz, "gzip"},
		{[]string{"gzip\t;\tq=0.5"}, gz, "gzip"},
		{[]string{"br;q=0.999,gzip;q=1.000"}, allCodings, "gzip"},
		{[]string{"deflate, compress"}, allCodings, "identity"},
		// Malformed: the whole header is ignored.
		{[]string{"gzip;q=2"}, gz, "identity"},
		{[]string{"gzip;q=1.5"}, gz, "identity"},
		{[]string{"gzip;q=0.1234"}, gz, "identity"},
		{[]string{"gzip;q=.5"}, gz, "identity"},
		{[]string{"gzip;q = 0.5"}, gz, "identity"},
		{[]string{"gzip;level=9"}, gz, "identity"},
		{[]string{"gzip;q=0.5;q=0.6"}, gz, "identity"},
		{[]string{"gzip;"}, gz, "identity"},
		{[]string{"gz ip"}, gz, "identity"},
		{[]string{`"gzip"`}, gz, "identity"},
		{[]string{"br, gzip;q=x"}, allCodings, "identity"},
		{[]string{"gzip", "br;q=-1"}, allCodings, "identity"},
		{[]string{";q=1"}, gz, "identity"},
	} {
		got := codingName(chooseCoding(reqWith(tc.hdr...), tc.avail))
		assert.Equal(t, tc.want, got, "Accept-Encoding %q, avail %03b", tc.hdr, tc.avail)
		assert.Equal(t, tc.want, refChoose(tc.hdr, tc.avail), "reference: %q", tc.hdr)
	}
}

// TestChooseCodingAllocs: the negotiation runs on the worker for every hit
// of a file with siblings.
func TestChooseCodingAllocs(t *testing.T) {
	r := reqWith("gzip, deflate, br;q=0.9, zstd;q=0.8, *;q=0.1")
	require.Zero(t, testing.AllocsPerRun(1000, func() { chooseCoding(r, allCodings) }))
}

func BenchmarkChooseCoding(b *testing.B) {
	for _, bc := range []struct{ name, v string }{
		{"chrome", "gzip, deflate, br, zstd"},
		{"qvalues", "gzip;q=1.0, identity; q=0.5, *;q=0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := reqWith(bc.v)
			r.Headers = append([]http1.Header{
				{Name: []byte("Host"), Value: []byte("example.com")},
				{Name: []byte("User-Agent"), Value: []byte("Mozilla/5.0 (X11; Linux x86_64)")},
				{Name: []byte("Accept"), Value: []byte("text/css,*/*;q=0.1")},
			}, r.Headers...)
			b.ReportAllocs()
			for b.Loop() {
				chooseCoding(r, allCodings)
			}
		})
	}
}

// FuzzAcceptEncoding compares the in-place parser with refChoose, a
// string-splitting reading of the same grammar, for every set of siblings.
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{
		"gzip, deflate, br, zstd", "*;q=0", "identity;q=0, gzip;q=0.5", "br;Q=0.999",
		"x-gzip;q=1.000", " , ,gzip , ", "gzip;q=0.1234", "gzip\t;\tq=0.", "a;q=1.", "\x00",
	} {
		f.Add(s, "")
		f.Add(s, "br")
	}
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		hdr := []string{v1}
		if v2 != "" {
			hdr = append(hdr, v2)
		}
		for avail := uint8(0); avail <= allCodings; avail++ {
			got := codingName(chooseCoding(reqWith(hdr...), avail))
			require.Equal(t, refChoose(hdr, avail), got, "Accept-Encoding %q avail %03b", hdr, avail)
		}
	})
}

var (
	refToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	refQ     = regexp.MustCompile(`^[qQ]=(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$`)
)

// refChoose is the reference negotiation: split on ',' and ';', trim OWS,
// weights as floats, the rules of chooseCoding's doc comment.
func refChoose(hdr []string, avail uint8) string {
	if hdr == nil {
		return "identity"
	}
	q := map[string]float64{}
	for _, v := range hdr {
		for _, el := range strings.Split(v, ",") {
			el = strings.Trim(el, " \t")
			if el == "" {
				continue
			}
			parts := strings.Split(el, ";")
			if len(parts) > 2 {
				return "identity"
			}
			// Checked before lowering: strings.ToLower maps some non-ASCII
			// letters to ASCII ("İ" to "i"), which would pass the token
			// check that the raw bytes fail (the fuzzer found it).
			tok := strings.Trim(parts[0], " \t")
			if !refToken.MatchString(tok) {
				return "identity"
			}
			tok = strings.ToLower(tok)
			w := 1.0
			if len(parts) == 2 {
				p := strings.Trim(parts[1], " \t")
				if !refQ.MatchString(p) {
					return "identity"
				}
				w = parseFloat(p[2:])
			}
			if tok == "x-gzip" {
				tok = "gzip"
			}
			if _, dup := q[tok]; !dup {
				q[tok] = w
			}
		}
	}
	weight := func(tok string) (float64, bool) {
		if w, ok := q[tok]; ok {
			return w, true
		}
		w, ok := q["*"]
		return w, ok
	}
	best, bq := "identity", 0.0
	for c := range numCodings {
		if avail&(1<<c) == 0 {
			continue
		}
		if w, _ := weight(codings[c].token); w > bq {
			best, bq = codings[c].token, w
		}
	}
	if idq, ok := weight("identity"); best != "identity" && ok && idq > bq {
		return "identity"
	}
	return best
}

func parseFloat(s string) float64 {
	var n, scale float64 = 0, 0
	for _, c := range s {
		if c == '.' {
			scale = 1
			continue
		}
		n = n*10 + float64(c-'0')
		scale *= 10
	}
	if scale > 0 {
		n /= scale
	}
	return n
}

package http1

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The benchmark inputs are real requests from testdata/corpus, the same
// bytes bench/parsebench gives fasthttp.
func loadCorpus(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// parseAll parses every request in buf and returns how many there were.
func parseAll(tb testing.TB, p *Parser, req *Request, buf []byte) int {
	n := 0
	for len(buf) > 0 {
		k, err := p.Next(buf, req)
		if err != nil {
			tb.Fatal(err)
		}
		buf = buf[k:]
		n++
	}
	return n
}

func benchParse(b *testing.B, in []byte) {
	p := newParser(&DefaultLimits)
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	loopCPU(b, func() { parseAll(b, p, &req, in) })
}

func BenchmarkParseWrk(b *testing.B) { benchParse(b, loadCorpus(b, "wrk.http")) }

func BenchmarkParseBrowser(b *testing.B) { benchParse(b, loadCorpus(b, "chrome.http")) }

func BenchmarkParsePipeline16(b *testing.B) {
	benchParse(b, bytes.Repeat(loadCorpus(b, "wrk.http"), 16))
}

func BenchmarkResponseHelloWorld(b *testing.B) {
	var dc DateCache
	dc.Update(time.Now())
	p := newParser(&DefaultLimits)
	var req Request
	parseAll(b, p, &req, loadCorpus(b, "wrk.http"))
	var w Response
	out := make([]byte, 0, 4096)
	b.ReportAllocs()
	loopCPU(b, func() {
		w.Reset(out[:0], &req, dc.Bytes())
		w.SetContentType("text/plain")
		w.WriteString("Hello, World!")
		out = w.Finish()
	})
}

// BenchmarkPipeline16 is the user-space part of the pipelined bench
// scenario: 16 wrk GETs arrive in one read, each is parsed and answered
// with "Hello, World!" into one output buffer, as a worker does. One op is
// the 16 requests.
func BenchmarkPipeline16(b *testing.B) {
	in := bytes.Repeat(loadCorpus(b, "wrk.http"), 16)
	var dc DateCache
	dc.Update(time.Now())
	p := newParser(&DefaultLimits)
	var req Request
	var w Response
	out := make([]byte, 0, 16<<10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	loopCPU(b, func() {
		buf := in
		out = out[:0]
		for len(buf) > 0 {
			k, err := p.Next(buf, &req)
			if err != nil {
				b.Fatal(err)
			}
			buf = buf[k:]
			w.Reset(out, &req, dc.Bytes())
			w.SetContentType("text/plain")
			w.WriteString("Hello, World!")
			out = w.Finish()
		}
	})
}

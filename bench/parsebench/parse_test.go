package parsebench

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"github.com/valyala/fasthttp"
)

// input is one benchmark case: the bytes and how many requests they hold.
type input struct {
	name string
	data []byte
	reqs int
}

func inputs(tb testing.TB) []input {
	tb.Helper()
	load := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "http1", "testdata", "corpus", name))
		require.NoError(tb, err)
		return b
	}
	wrk := load("wrk.http")
	return []input{
		{"Wrk", wrk, 1},
		{"Browser", load("chrome.http"), 1},
		{"Pipeline16", bytes.Repeat(wrk, 16), 16},
	}
}

// uringd parses every request in data with http1.Parser.Next, the way the
// worker does after a recv.
func uringdParse(tb testing.TB, p *http1.Parser, req *http1.Request, data []byte) int {
	n := 0
	for len(data) > 0 {
		k, err := p.Next(data, req)
		if err != nil {
			tb.Fatal(err)
		}
		data = data[k:]
		n++
	}
	return n
}

// fasthttpParse reads every request head in data with
// fasthttp.RequestHeader.Read from a bufio.Reader, the way fasthttp's server
// does on a connection (its parse(buf) is not exported). These requests
// have no body, so the headers are the whole request.
func fasthttpParse(tb testing.TB, h *fasthttp.RequestHeader, br *bufio.Reader, rd *bytes.Reader, data []byte) int {
	rd.Reset(data)
	br.Reset(rd)
	n := 0
	for br.Buffered() > 0 || rd.Len() > 0 {
		if err := h.Read(br); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}

// TestSameWork checks both parsers see the same requests, so the numbers
// compare like with like.
func TestSameWork(t *testing.T) {
	for _, in := range inputs(t) {
		var p http1.Parser
		p.Init(&http1.DefaultLimits, make([]http1.Header, http1.DefaultLimits.MaxHeaders))
		var req http1.Request
		require.Equal(t, in.reqs, uringdParse(t, &p, &req, in.data), in.name)

		var h fasthttp.RequestHeader
		rd := bytes.NewReader(nil)
		br := bufio.NewReaderSize(rd, 4096)
		require.Equal(t, in.reqs, fasthttpParse(t, &h, br, rd, in.data), in.name)
		require.Equal(t, string(req.Target), string(h.RequestURI()))
		require.Equal(t, string(req.Host), string(h.Host()))
		require.Equal(t, string(req.Header("User-Agent")), string(h.UserAgent()))
	}
}

func BenchmarkParse(b *testing.B) {
	for _, in := range inputs(b) {
		b.Run("uringd/"+in.name, func(b *testing.B) {
			var p http1.Parser
			p.Init(&http1.DefaultLimits, make([]http1.Header, http1.DefaultLimits.MaxHeaders))
			var req http1.Request
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			loopCPU(b, func() { uringdParse(b, &p, &req, in.data) })
		})
		b.Run("fasthttp/"+in.name, func(b *testing.B) {
			var h fasthttp.RequestHeader
			rd := bytes.NewReader(nil)
			br := bufio.NewReaderSize(rd, 4096)
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			loopCPU(b, func() { fasthttpParse(b, &h, br, rd, in.data) })
		})
	}
}

// BenchmarkHelloWorld writes "Hello, World!" with Date and Content-Type:
// uringd's Response into a reused buffer, fasthttp's Response into a
// reused bufio.Writer (as its server does).
func BenchmarkHelloWorld(b *testing.B) {
	b.Run("uringd", func(b *testing.B) {
		var dc http1.DateCache
		dc.Update(time.Now())
		var req http1.Request // zero: HTTP/1.0-like flags off, i.e. a plain keep-alive GET
		req.ProtoMinor = 1
		req.Method = []byte("GET")
		var w http1.Response
		out := make([]byte, 0, 4096)
		b.ReportAllocs()
		loopCPU(b, func() {
			w.Reset(out[:0], &req, dc.Bytes())
			w.SetContentType("text/plain")
			w.WriteString("Hello, World!")
			out = w.Finish()
		})
	})
	b.Run("fasthttp", func(b *testing.B) {
		var resp fasthttp.Response
		var sink bytes.Buffer
		sink.Grow(4096)
		bw := bufio.NewWriterSize(&sink, 4096)
		b.ReportAllocs()
		loopCPU(b, func() {
			resp.Reset()
			resp.Header.SetContentType("text/plain")
			resp.SetBodyString("Hello, World!")
			if err := resp.Write(bw); err != nil {
				b.Fatal(err)
			}
			bw.Flush()
			sink.Reset()
		})
	})
}

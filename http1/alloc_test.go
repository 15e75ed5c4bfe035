//go:build !race

package http1

import (
	"bytes"
	"testing"
	"time"
)

// TestZeroAllocs holds the hot path at 0 allocations per request: parsing
// every corpus request (pipelined) and writing a response.
func TestZeroAllocs(t *testing.T) {
	var in []byte
	for _, name := range []string{"wrk.http", "chrome.http", "firefox.http", "curl-post-json.http",
		"curl-chunked.http", "go-chunked-expect.http", "ab.http"} {
		in = append(in, loadCorpus(t, name)...)
	}
	p := newParser(&DefaultLimits)
	var req Request
	buf := make([]byte, len(in))
	var dc DateCache
	dc.Update(time.Now())
	var w Response
	out := make([]byte, 0, 64<<10)
	n := testing.AllocsPerRun(100, func() {
		copy(buf, in) // chunked bodies are decoded in place
		b := buf
		out = out[:0]
		for len(b) > 0 {
			k, err := p.Next(b, &req)
			if err != nil {
				t.Fatal(err)
			}
			b = b[k:]
			w.Reset(out, &req, dc.Bytes())
			w.SetContentType("text/plain")
			_ = w.SetHeader("X-Request-Path", "static")
			_ = w.SetHeaderBytes("X-Echo", req.Path)
			w.Write(req.Body)
			out = w.Finish()
		}
		dc.Update(time.Now())
	})
	if n != 0 {
		t.Fatalf("allocs per run = %v; want 0", n)
	}
	if !bytes.Contains(out, []byte("Content-Length: 19\r\n")) {
		t.Fatalf("unexpected output %q", out)
	}
}

package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzResponse: whatever a handler passes to the writer, the bytes are one
// well-framed response that net/http reads back with the same status,
// header and body — never a second, smuggled response (response splitting).
func FuzzResponse(f *testing.F) {
	f.Add(200, "X-A", "v", []byte("hello"), false)
	f.Add(204, "Set-Cookie", "a=b; Path=/", []byte("dropped"), false)
	f.Add(404, "X", "a\r\nX-Injected: 1", []byte{}, true)
	f.Add(301, "Location", "/\x00", []byte("x"), false)
	f.Fuzz(func(t *testing.T, status int, name, value string, body []byte, head bool) {
		if status < 100 || status > 999 {
			return // SetStatus panics by contract
		}
		method := "GET"
		if head {
			method = "HEAD"
		}
		req := &Request{Headers: make([]Header, 0, 4)}
		_, err := ParseHead([]byte(method+" / HTTP/1.1\r\nHost: h\r\n\r\n"), 0, req, &DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		var w Response
		w.Reset([]byte("prefix"), req, []byte(testDate))
		w.SetStatus(status)
		accepted := w.SetHeader(name, value) == nil
		w.Write(body)
		out := w.Finish()
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("earlier output lost: %q", out)
		}
		// The same response again from the reused Response (its head
		// cached, the body after a gap of the last head's length), after
		// another one between: the same bytes as the first time.
		for _, other := range []bool{false, true} {
			dst := append(make([]byte, 0, 64+2*len(out)), "prefix"...)
			if other {
				w.Reset(make([]byte, 0, 256), req, []byte(testDate))
				w.SetContentType("text/plain")
				w.WriteString("Hello, World!")
				_ = w.Finish()
			}
			w.Reset(dst, req, []byte(testDate))
			w.SetStatus(status)
			_ = w.SetHeader(name, value)
			w.Write(body)
			if again := w.Finish(); !bytes.Equal(again, out) {
				t.Fatalf("reused Response wrote %q, a fresh one %q", again, out)
			}
		}
		out = out[len("prefix"):]
		if status < 200 {
			return // an interim response: net/http's client skips it
		}
		br := bufio.NewReader(bytes.NewReader(out))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("net/http cannot read %q: %v", out, err)
		}
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("body of %q: %v", out, err)
		}
		if br.Buffered() != 0 {
			t.Fatalf("bytes after the response (split?): %q", out)
		}
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d", resp.StatusCode, status)
		}
		wantBody := body
		if head || status == 204 || status == 304 {
			wantBody = nil
		}
		if !bytes.Equal(got, wantBody) {
			t.Fatalf("body %q, want %q", got, wantBody)
		}
		if accepted && name != "" && !isManagedHeader(name) {
			if v := resp.Header.Values(name); len(v) != 1 || v[0] != string(trimOWS([]byte(value))) {
				t.Fatalf("header %q = %q, want %q in %q", name, v, value, out)
			}
		}
	})
}

// isManagedHeader: names the writer handles itself, whose values are not
// echoed verbatim.
func isManagedHeader(name string) bool {
	for _, m := range []string{"Content-Type", "Connection", "Date", "Content-Length", "Transfer-Encoding"} {
		if equalFold([]byte(name), m) {
			return true
		}
	}
	return false
}

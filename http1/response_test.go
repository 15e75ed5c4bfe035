package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testDate = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

func parseReq(t *testing.T, s string) *Request {
	t.Helper()
	req := &Request{Headers: make([]Header, 0, 16)}
	_, err := ParseHead(crlf(s), 0, req, &DefaultLimits)
	require.NoError(t, err)
	return req
}

func TestResponseHelloWorld(t *testing.T) {
	var w Response
	w.Reset(append(make([]byte, 0, 512), "prev"...), parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), []byte(testDate))
	w.SetContentType("text/plain")
	w.WriteString("Hello, World!")
	require.Equal(t, "prev"+
		"HTTP/1.1 200 OK\r\n"+testDate+
		"Content-Type: text/plain\r\n"+
		"Content-Length: 13\r\n\r\n"+
		"Hello, World!", string(w.Finish()))
	require.False(t, w.WillClose())
	require.False(t, w.Grown())
}

func TestResponseHeadersAfterBody(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
	w.Write([]byte("abc"))
	require.NoError(t, w.SetHeader("X-A", "1"))
	require.NoError(t, w.SetHeader("X-B", "2"))
	require.NoError(t, w.SetHeader("x-a", "3")) // replaces X-A
	require.NoError(t, w.AddHeader("Set-Cookie", "a=1"))
	require.NoError(t, w.AddHeader("Set-Cookie", "b=2"))
	require.NoError(t, w.SetHeaderBytes("X-C", []byte("4")))
	w.SetStatus(404)
	require.Equal(t, "HTTP/1.1 404 Not Found\r\nX-B: 2\r\nx-a: 3\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-C: 4\r\n"+
		"Content-Length: 3\r\n\r\nabc", string(w.Finish()))
}

func TestResponseRefusesSplitting(t *testing.T) {
	var w Response
	w.Reset(nil, nil, nil)
	require.ErrorIs(t, w.SetHeader("X", "a\r\nInjected: 1"), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeader("X", "a\nb"), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeaderBytes("X", []byte("a\rb")), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeader("X\r\nY", "a"), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeader("", "a"), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeader("Bad Name", "a"), ErrInvalidHeader)
	require.ErrorIs(t, w.SetHeader("Content-Length", "5"), ErrReservedHeader)
	require.ErrorIs(t, w.SetHeader("transfer-encoding", "chunked"), ErrReservedHeader)
	w.SetContentType("text/html\r\nX: 1")
	require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", string(w.Finish()))
}

func TestResponseConnection(t *testing.T) {
	tests := []struct {
		name, req string
		setClose  bool
		want      string // the Connection line, or ""
		close     bool
	}{
		{"1.1 persists", "GET / HTTP/1.1\nHost: h\n\n", false, "", false},
		{"1.1 close", "GET / HTTP/1.1\nHost: h\nConnection: close\n\n", false, "Connection: close\r\n", true},
		{"1.1 SetClose", "GET / HTTP/1.1\nHost: h\n\n", true, "Connection: close\r\n", true},
		{"1.0 closes", "GET / HTTP/1.0\n\n", false, "Connection: close\r\n", true},
		{"1.0 keep-alive", "GET / HTTP/1.0\nConnection: keep-alive\n\n", false, "Connection: keep-alive\r\n", false},
		{"1.0 keep-alive SetClose", "GET / HTTP/1.0\nConnection: keep-alive\n\n", true, "Connection: close\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w Response
			w.Reset(nil, parseReq(t, tt.req), nil)
			if tt.setClose {
				w.SetClose()
			}
			w.WriteString("x")
			require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"+tt.want+"\r\nx", string(w.Finish()))
			require.Equal(t, tt.close, w.WillClose())
		})
	}
	var w Response
	w.Reset(nil, nil, nil)
	require.NoError(t, w.SetHeader("Connection", "close"))
	require.True(t, w.WillClose())
}

func TestResponseNoBody(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "HEAD / HTTP/1.1\nHost: h\n\n"), nil)
	w.WriteString("Hello, World!")
	require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", string(w.Finish()))

	for _, code := range []int{100, 204, 304} {
		w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
		w.SetStatus(code)
		w.WriteString("dropped")
		require.Equal(t, statusLine[code]+"\r\n", string(w.Finish()))
	}
	w.Reset(nil, nil, nil)
	w.SetStatus(299)
	require.Equal(t, "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n", string(w.Finish()))
	require.Panics(t, func() { w.SetStatus(99) })
}

type testPool struct{ gets, puts int }

func (p *testPool) Get(n int) []byte { p.gets++; return make([]byte, 0, n) }
func (p *testPool) Put([]byte)       { p.puts++ }

func TestResponseGrowsFromPool(t *testing.T) {
	pool := &testPool{}
	w := Response{Pool: pool}
	dst := make([]byte, 0, 64)
	dst = append(dst, "earlier response;"...)
	w.Reset(dst, nil, []byte(testDate))
	body := strings.Repeat("0123456789", 1000)
	for i := 0; i < len(body); i += 100 {
		w.WriteString(body[i : i+100])
	}
	out := w.Finish()
	require.True(t, w.Grown())
	require.True(t, w.FromPool())
	require.Equal(t, pool.gets-1, pool.puts, "every intermediate buffer goes back")
	require.Equal(t, "earlier response;HTTP/1.1 200 OK\r\n"+testDate+"Content-Length: 10000\r\n\r\n"+body, string(out))
}

// TestResponseReadableByNetHTTP checks our bytes with another parser.
func TestResponseReadableByNetHTTP(t *testing.T) {
	var dc DateCache
	dc.Update(time.Now())
	var w Response
	var out []byte
	for _, s := range []string{"one", "", "three"} {
		w.Reset(out, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), dc.Bytes())
		w.SetContentType("text/plain; charset=utf-8")
		w.WriteString(s)
		out = w.Finish()
	}
	br := bufio.NewReader(bytes.NewReader(out))
	for _, s := range []string{"one", "", "three"} {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, s, string(b))
		_, err = http.ParseTime(resp.Header.Get("Date"))
		require.NoError(t, err)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	}
	require.Zero(t, br.Buffered())
}

func TestDateCache(t *testing.T) {
	var d DateCache
	d.Update(time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC))
	require.Equal(t, testDate, string(d.Bytes()))
	d.Update(time.Date(1994, 11, 6, 8, 49, 37, 999, time.UTC)) // same second: unchanged
	require.Equal(t, testDate, string(d.Bytes()))
	loc := time.FixedZone("X", 3600)
	d.Update(time.Date(1994, 11, 6, 9, 49, 38, 0, loc))
	require.Equal(t, "Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n", string(d.Bytes()))
}

func TestStatusText(t *testing.T) {
	// RFC 9110 renamed these; net/http keeps the RFC 7231 names.
	renamed := map[int]string{413: "Content Too Large", 414: "URI Too Long",
		416: "Range Not Satisfiable", 422: "Unprocessable Content"}
	for code := 100; code < 600; code++ {
		want := http.StatusText(code)
		if r, ok := renamed[code]; ok {
			want = r
		}
		require.Equal(t, want, StatusText(code), "code %d", code)
	}
	require.Equal(t, "", StatusText(99))
	require.Equal(t, "", StatusText(1000))
}

// TestResponseToParseError is how the worker answers an *Error: no
// request, the error's status, and Connection: close.
func TestResponseToParseError(t *testing.T) {
	p := newParser(&DefaultLimits)
	var req Request
	_, err := p.Next(crlf("GET / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip\n\n"), &req)
	var e *Error
	require.ErrorAs(t, err, &e)
	var w Response
	w.Reset(nil, nil, nil)
	w.SetStatus(e.Status)
	w.SetClose()
	w.WriteString(e.Reason)
	require.Equal(t, "HTTP/1.1 501 Not Implemented\r\nContent-Length: 27\r\nConnection: close\r\n\r\nunsupported transfer coding",
		string(w.Finish()))
}

// stingyPool hands out buffers too small to use.
type stingyPool struct{ gets, puts int }

func (p *stingyPool) Get(n int) []byte { p.gets++; return make([]byte, 0, 16) }
func (p *stingyPool) Put([]byte)       { p.puts++ }

func TestResponseGrowsPastStingyPool(t *testing.T) {
	pool := &stingyPool{}
	w := Response{Pool: pool}
	w.Reset(make([]byte, 0, 8), nil, nil)
	body := strings.Repeat("x", 20000)
	w.WriteString(body)
	out := w.Finish()
	require.True(t, w.Grown())
	require.False(t, w.FromPool(), "a heap buffer must not go to the pool")
	require.Equal(t, pool.gets, pool.puts, "unusable pool buffers go straight back")
	require.True(t, strings.HasSuffix(string(out), body))
}

// A reused Response reuses the last head only when nothing it depends on
// changed: every response in this sequence equals the one a fresh Response
// writes, whichever input changed from the one before (the Date line is
// rewritten in place, as DateCache does).
func TestResponseReusedHeadFollowsEveryInput(t *testing.T) {
	get := parseReq(t, "GET / HTTP/1.1\nHost: h\n\n")
	head := parseReq(t, "HEAD / HTTP/1.1\nHost: h\n\n")
	closing := parseReq(t, "GET / HTTP/1.1\nHost: h\nConnection: close\n\n")
	keep10 := parseReq(t, "GET / HTTP/1.0\nConnection: keep-alive\n\n")
	date := []byte(testDate)
	type step struct {
		req  *Request
		date string // "" keeps the current line
		fn   func(w *Response)
	}
	body := func(s string) func(w *Response) {
		return func(w *Response) { w.SetContentType("text/plain"); w.WriteString(s) }
	}
	steps := []step{
		{get, "", body("Hello, World!")},
		{get, "", body("Hello, World!")}, // the same: reused
		{get, "", body("Hello, World?")}, // same length, other body: reused head
		{get, "", body("Hello!")},        // another length
		{get, "Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n", body("Hello!")},
		{get, "", func(w *Response) { w.SetContentType("text/html"); w.WriteString("Hello!") }},
		{get, "", func(w *Response) { body("Hello!")(w); w.SetStatus(404) }},
		{get, "", func(w *Response) { body("Hello!")(w); w.SetHeader("X-A", "1") }},
		{get, "", func(w *Response) { body("Hello!")(w); w.SetHeader("X-A", "2") }},
		{get, "", func(w *Response) { body("Hello!")(w); w.SetClose() }},
		{closing, "", body("Hello!")},
		{keep10, "", body("Hello!")},
		{head, "", body("Hello!")},
		{get, "", func(w *Response) { w.SetStatus(204) }},
		{get, "", func(w *Response) { body("Hello!")(w); w.SetHeader("Date", "x") }},
		{get, "", body("Hello!")},
	}
	var reused Response
	for i, s := range steps {
		if s.date != "" {
			copy(date, s.date)
		}
		reused.Reset(nil, s.req, date)
		s.fn(&reused)
		var fresh Response
		fresh.Reset(nil, s.req, date)
		s.fn(&fresh)
		require.Equal(t, string(fresh.Finish()), string(reused.Finish()), "step %d", i)
	}
}

func TestStatusAndBodySent(t *testing.T) {
	var w Response
	get := Request{Method: []byte("GET"), ProtoMinor: 1}
	head := Request{Method: []byte("HEAD"), ProtoMinor: 1}
	for _, c := range []struct {
		req    *Request
		status int
		want   int64
	}{{&get, 200, 5}, {&head, 200, 0}, {&get, 204, 0}, {&get, 404, 5}} {
		w.Reset(nil, c.req, nil)
		w.SetStatus(c.status)
		w.WriteString("hello")
		out := w.Finish()
		assert.Equal(t, c.status, w.Status())
		assert.Equal(t, c.want, w.BodySent(), "%s %d", c.req.Method, c.status)
		assert.True(t, strings.HasSuffix(string(out), "\r\n\r\n"+"hello"[:c.want]))
	}
}

package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestResponseStreamChunked(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), []byte(testDate))
	w.SetContentType("text/plain")
	w.WriteString("first ")
	out, sf := w.FinishStream()
	require.Equal(t, StreamChunked, sf)
	out = AppendChunk(out, []byte("second, a longer piece "))
	out = AppendChunk(out, nil) // must not end the body
	out = AppendChunk(out, []byte("third"))
	out = AppendLastChunk(out)
	require.Equal(t, "HTTP/1.1 200 OK\r\n"+testDate+"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"6\r\nfirst \r\n17\r\nsecond, a longer piece \r\n5\r\nthird\r\n0\r\n\r\n", string(out))
	require.False(t, w.WillClose())

	// Read back by net/http, and by our own chunked decoder.
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "first second, a longer piece third", string(b))
	var d ChunkedDecoder
	d.Reset(1<<20, 1024)
	body := out[bytes.Index(out, []byte("\r\n\r\n"))+4:]
	dec, n, err := d.Decode(body)
	require.NoError(t, err)
	require.Equal(t, len(body), n)
	require.Equal(t, "first second, a longer piece third", string(dec))
}

func TestResponseStreamHTTP10AndNoBody(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "GET / HTTP/1.0\nConnection: keep-alive\n\n"), nil)
	w.WriteString("raw")
	out, sf := w.FinishStream()
	require.Equal(t, StreamUntilClose, sf)
	require.True(t, w.WillClose())
	require.Equal(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nraw", string(out))

	w.Reset(nil, parseReq(t, "HEAD / HTTP/1.1\nHost: h\n\n"), nil)
	w.WriteString("dropped")
	out, sf = w.FinishStream()
	require.Equal(t, StreamNoBody, sf)
	require.Equal(t, "HTTP/1.1 200 OK\r\n\r\n", string(out), "HEAD of unknown length: no framing field")

	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
	w.SetStatus(304)
	out, sf = w.FinishStream()
	require.Equal(t, StreamNoBody, sf)
	require.Equal(t, "HTTP/1.1 304 Not Modified\r\n\r\n", string(out))

	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
	out, sf = w.FinishStream()
	require.Equal(t, StreamChunked, sf)
	require.Equal(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", string(out), "no empty first chunk")
}

func TestResponseStreamDeclaredLength(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "GET / HTTP/1.0\nConnection: keep-alive\n\n"), []byte(testDate))
	w.SetContentLength(10)
	w.WriteString("12345")
	out, sf := w.FinishStream()
	require.Equal(t, StreamLength, sf)
	require.False(t, w.WillClose(), "a declared length keeps an HTTP/1.0 keep-alive connection")
	require.Equal(t, "HTTP/1.1 200 OK\r\n"+testDate+"Content-Length: 10\r\nConnection: keep-alive\r\n\r\n12345", string(out))

	// HEAD: the declared length, no body; an HTTP/1.0 HEAD stays open.
	w.Reset(nil, parseReq(t, "HEAD / HTTP/1.0\nConnection: keep-alive\n\n"), nil)
	w.SetContentLength(7)
	out, sf = w.FinishStream()
	require.Equal(t, StreamNoBody, sf)
	require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n", string(out))
	w.Reset(nil, parseReq(t, "HEAD / HTTP/1.0\nConnection: keep-alive\n\n"), nil)
	out, _ = w.FinishStream()
	require.Equal(t, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", string(out))

	// No body status: no length even if declared; Reset forgets it.
	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
	w.SetContentLength(3)
	w.SetStatus(204)
	out, sf = w.FinishStream()
	require.Equal(t, StreamNoBody, sf)
	require.Equal(t, "HTTP/1.1 204 No Content\r\n\r\n", string(out))
	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), nil)
	_, sf = w.FinishStream()
	require.Equal(t, StreamChunked, sf)
}

func TestResponseSetDate(t *testing.T) {
	var w Response
	w.Reset(nil, parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"), []byte("Date: old\r\n"))
	w.SetDate([]byte(testDate))
	w.WriteString("x")
	require.Equal(t, "HTTP/1.1 200 OK\r\n"+testDate+"Content-Length: 1\r\n\r\nx", string(w.Finish()))
}

func TestCurrentDate(t *testing.T) {
	d := CurrentDate()
	require.Regexp(t, `^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT\r\n$`, string(d))
	var dc DateCache
	dc.Update(time.Now())
	if string(dc.Bytes()) != string(d) { // a second boundary between the two
		require.Equal(t, string(dc.Bytes()), string(CurrentDate()))
	}
	allocs := testing.AllocsPerRun(1000, func() { _ = CurrentDate() })
	require.Less(t, allocs, 1.0, "formatted once a second, not per call")
}

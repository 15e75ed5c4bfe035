package uringd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/http1"
)

// sink is where a blocking response's bytes go: a worker.Stream (io_uring
// engine: posted to the worker that owns the connection) or a
// netpoll.Stream (portable engine: written to the net.Conn).
type sink interface {
	Request() *http1.Request
	Body() io.Reader // the body as it arrives; nil when it is all in Request().Body
	RemoteAddr() string
	Context() context.Context
	Write(p []byte) (int, error)
	Finish(closeConn bool)
}

// rwBufSize is how much of a body the writer holds before it must commit to
// a framing: a response whose body fits and that is not flushed gets a
// Content-Length; a longer one is streamed chunked (HTTP/1.1) or
// close-delimited (HTTP/1.0). net/http holds 2 KiB; more means fewer
// chunked responses and fewer, bigger posts to the worker.
const rwBufSize = 32 << 10

// errAfterReturn: the response was completed when the handler returned.
var errAfterReturn = errors.New("uringd: ResponseWriter used after the handler returned")

var rwBufs = sync.Pool{New: func() any { b := make([]byte, 0, rwBufSize+512); return &b }}

// responseWriter implements ResponseWriter (http.ResponseWriter and
// http.Flusher) over a sink, with net/http's rules for the head (the
// conformance tests compare them): Content-Length when the whole body is
// known, else chunked; Content-Type sniffed when unset; Date added;
// "Connection: close" when the request or the framing needs it; no body for
// HEAD, 1xx, 204 and 304. It is used by one goroutine, the handler's.
type responseWriter struct {
	s    sink
	req  *http1.Request
	hdr  http.Header
	isHE bool // HEAD request

	status      int
	wroteHeader bool  // the status is decided (WriteHeader or first Write)
	committed   bool  // the head went to buf (framing decided)
	chunking    bool  // body in chunked transfer coding
	closeAfter  bool  // the connection closes after this response
	clen        int64 // declared or computed Content-Length; -1 unknown
	written     int64 // body bytes the handler wrote
	err         error // first sink error: later writes fail with it

	buf *[]byte // before commit: the body; after: head and framed body not yet posted

	// finished is set once the response is complete (the handler returned):
	// atomic, because a goroutine the handler left behind may still call it.
	finished atomic.Bool

	ctx     blockingCtx // the handler's context (blocking.go)
	scratch [320]byte   // the head is composed here (a longer one spills to the heap)
}

func newResponseWriter(s sink) *responseWriter {
	r := s.Request()
	return &responseWriter{s: s, req: r, isHE: r.IsHead(), status: 200, clen: -1, buf: rwBufs.Get().(*[]byte)}
}

// Header returns the header map; changes after WriteHeader (or the first
// Write) have no effect, as in net/http.
func (rw *responseWriter) Header() http.Header {
	if rw.hdr == nil {
		rw.hdr = make(http.Header)
	}
	return rw.hdr
}

// WriteHeader sets the status. 1xx codes (but 101) go out at once as
// interim responses; a second call is ignored. Codes outside 100..999 panic,
// as in net/http.
func (rw *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("uringd: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if rw.finished.Load() || rw.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 && code != 101 {
		rw.interim(code)
		return
	}
	rw.wroteHeader = true
	rw.status = code
	if cl := rw.hdr.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			rw.clen = v
		} else {
			rw.hdr.Del("Content-Length")
		}
	}
}

// interim sends a 1xx response (e.g. 103 Early Hints) ahead of the final one.
func (rw *responseWriter) interim(code int) {
	b := appendStatusLine((*rw.buf)[:0], rw.req.ProtoMinor, code)
	b = appendHeaders(b, rw.hdr, excludedNoBody)
	b = append(b, "\r\n"...)
	*rw.buf = b[:0]
	rw.post(b)
}

// Write appends p to the body. It fails with http.ErrBodyNotAllowed for a
// status without body, http.ErrContentLength past a declared length, and
// the sink's error once the client is gone.
func (rw *responseWriter) Write(p []byte) (int, error) {
	if rw.finished.Load() {
		return 0, errAfterReturn // a goroutine the handler left behind
	}
	if !rw.wroteHeader {
		rw.WriteHeader(200)
	}
	if rw.err != nil {
		return 0, rw.err
	}
	if !bodyAllowed(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.clen >= 0 && rw.written+int64(len(p)) > rw.clen { // declared by the handler
		return 0, http.ErrContentLength
	}
	rw.written += int64(len(p))
	if !rw.committed {
		if len(*rw.buf)+len(p) <= rwBufSize {
			*rw.buf = append(*rw.buf, p...)
			return len(p), nil
		}
		rw.commit(false, p)
	}
	rw.body(p)
	return len(p), rw.err
}

// WriteString is Write for a string (io.StringWriter).
func (rw *responseWriter) WriteString(s string) (int, error) {
	return rw.Write([]byte(s))
}

// body frames p after the head (chunked or identity) into buf, posting when
// buf is full; a large p is posted without copying into buf.
func (rw *responseWriter) body(p []byte) {
	if rw.isHE || len(p) == 0 {
		return
	}
	b := *rw.buf
	if rw.chunking {
		b = strconv.AppendInt(b, int64(len(p)), 16)
		b = append(b, "\r\n"...)
	}
	if len(b)+len(p) <= rwBufSize {
		b = append(b, p...)
	} else {
		rw.post(b)
		rw.post(p)
		b = b[:0]
	}
	if rw.chunking {
		b = append(b, "\r\n"...)
	}
	*rw.buf = b
	if len(b) >= rwBufSize {
		rw.flushBuf()
	}
}

// Flush sends the head and what the body has so far (http.Flusher). Once
// flushed, a response without a declared Content-Length is chunked.
func (rw *responseWriter) Flush() {
	if rw.finished.Load() {
		return
	}
	if !rw.wroteHeader {
		rw.WriteHeader(200)
	}
	if !rw.committed {
		rw.commit(false, nil)
	}
	rw.flushBuf()
}

func (rw *responseWriter) flushBuf() {
	if len(*rw.buf) > 0 {
		rw.post(*rw.buf)
		*rw.buf = (*rw.buf)[:0]
	}
}

func (rw *responseWriter) post(b []byte) {
	if rw.err == nil {
		_, rw.err = rw.s.Write(b)
	}
}

// finish completes the response after the handler returned and tells the
// sink whether the connection stays open.
func (rw *responseWriter) finish() {
	if !rw.wroteHeader {
		rw.WriteHeader(200)
	}
	if !rw.committed {
		rw.commit(true, nil)
	}
	if rw.chunking {
		*rw.buf = append(*rw.buf, "0\r\n\r\n"...)
	}
	rw.flushBuf()
	if !rw.isHE && rw.clen >= 0 && bodyAllowed(rw.status) && rw.written != rw.clen {
		rw.closeAfter = true // fewer bytes than declared: the client would wait for the rest
	}
	*rw.buf = (*rw.buf)[:0]
	rwBufs.Put(rw.buf)
	rw.buf = nil
	rw.finished.Store(true)
	rw.s.Finish(rw.closeAfter || rw.err != nil)
}

// commit decides the framing and writes the head in front of the body held
// so far, with the rules of net/http's chunkWriter.writeHeader. done: the
// handler has returned, so the held body is all of it. next is the write
// that did not fit (its start is sniffed when nothing is held).
func (rw *responseWriter) commit(done bool, next []byte) {
	rw.committed = true
	h := rw.hdr
	held := *rw.buf
	te := h.Get("Transfer-Encoding")
	hasTE := te != ""
	extra := extraHeaders{clen: -1}
	if done && !hasTE && bodyAllowed(rw.status) && h.Get("Content-Length") == "" && (!rw.isHE || len(held) > 0) {
		rw.clen = int64(len(held))
		extra.clen = rw.clen
	}
	hasCL := rw.clen != -1
	rw.connection(&extra, hasCL)
	if bodyAllowed(rw.status) {
		sniff := held
		if len(sniff) == 0 {
			sniff = next
		}
		if _, haveType := h["Content-Type"]; !haveType && h.Get("Content-Encoding") == "" && !hasTE && len(sniff) > 0 {
			extra.ctype = http.DetectContentType(sniff)
		}
	}
	if hasCL && hasTE && te != "identity" {
		h.Del("Content-Length")
		hasCL, extra.clen = false, -1
	}
	rw.transferEncoding(&extra, te, hasCL)
	if rw.closeAfter && !hasToken(h.Get("Connection"), "close") {
		h.Del("Connection")
		if rw.req.ProtoMinor >= 1 {
			extra.connection = "close"
		}
	}
	rw.writeHead(held, &extra)
}

// connection applies HTTP/1.0 keep-alive and the request's wish to close.
func (rw *responseWriter) connection(extra *extraHeaders, hasCL bool) {
	h := rw.hdr
	if rw.req.KeepAlive10 && (rw.isHE || hasCL || !bodyAllowed(rw.status)) {
		if _, set := h["Connection"]; !set {
			extra.connection = "keep-alive"
		}
	} else if rw.req.ProtoMinor == 0 || rw.req.Close {
		rw.closeAfter = true
	}
	for _, v := range h.Values("Connection") { // options are case-insensitive (RFC 9110 section 7.6.1)
		if hasToken(v, "close") {
			rw.closeAfter = true
		}
	}
}

// transferEncoding picks chunked, identity or nothing for the body.
func (rw *responseWriter) transferEncoding(extra *extraHeaders, te string, hasCL bool) {
	h := rw.hdr
	if !bodyAllowed(rw.status) {
		for _, k := range suppressed(rw.status) {
			h.Del(k)
		}
	}
	switch {
	case rw.isHE || !bodyAllowed(rw.status):
		h.Del("Transfer-Encoding")
	case hasCL:
		h.Del("Transfer-Encoding")
	case rw.req.ProtoMinor >= 1 && te == "identity":
		rw.closeAfter = true
		h.Del("Transfer-Encoding")
	case rw.req.ProtoMinor >= 1:
		rw.chunking = true
		extra.te = "chunked"
		h.Del("Transfer-Encoding")
	default:
		rw.closeAfter = true // HTTP/1.0: the body ends with the connection
		h.Del("Transfer-Encoding")
	}
	if rw.chunking {
		h.Del("Content-Length")
	}
	if _, ok := h["Date"]; !ok {
		extra.date = true
	}
}

// writeHead puts the status line and fields in front of the held body in
// buf (one memmove), framing that body as a first chunk when chunking, or
// dropping it for HEAD and the statuses without body.
func (rw *responseWriter) writeHead(held []byte, extra *extraHeaders) {
	prefix := rw.scratch[:0]
	prefix = appendStatusLine(prefix, rw.req.ProtoMinor, rw.status)
	prefix = appendHeaders(prefix, rw.hdr, nil)
	prefix = extra.append(prefix)
	prefix = append(prefix, "\r\n"...)
	b := *rw.buf
	if rw.isHE || !bodyAllowed(rw.status) || len(held) == 0 {
		*rw.buf = append(b[:0], prefix...)
		return
	}
	if rw.chunking {
		prefix = strconv.AppendInt(prefix, int64(len(held)), 16)
		prefix = append(prefix, "\r\n"...)
	}
	n := len(held)
	if cap(b) < n+len(prefix)+2 {
		nb := make([]byte, len(b), n+len(prefix)+2)
		copy(nb, b)
		b = nb
	}
	b = b[:n+len(prefix)]
	copy(b[len(prefix):], b[:n]) // memmove: the regions overlap
	copy(b, prefix)
	if rw.chunking {
		b = append(b, "\r\n"...)
	}
	*rw.buf = b
}

// extraHeaders are the fields the writer adds (net/http's extraHeader).
type extraHeaders struct {
	ctype, connection, te string
	date                  bool
	clen                  int64 // -1: none
}

func (e *extraHeaders) append(b []byte) []byte {
	if e.ctype != "" {
		b = appendField(b, "Content-Type", e.ctype)
	}
	if e.connection != "" {
		b = appendField(b, "Connection", e.connection)
	}
	if e.te != "" {
		b = appendField(b, "Transfer-Encoding", e.te)
	}
	if e.date {
		b = append(b, "Date: "...)
		b = append(b, httpDate()...)
		b = append(b, "\r\n"...)
	}
	if e.clen >= 0 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, e.clen, 10)
		b = append(b, "\r\n"...)
	}
	return b
}

var excludedNoBody = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}

func suppressed(status int) []string {
	if status == 304 {
		return []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
	}
	return []string{"Content-Length", "Transfer-Encoding"}
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

func appendStatusLine(b []byte, protoMinor, code int) []byte {
	if protoMinor >= 1 {
		b = append(b, "HTTP/1.1 "...)
	} else {
		b = append(b, "HTTP/1.0 "...)
	}
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if t := http.StatusText(code); t != "" {
		b = append(b, t...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// appendHeaders writes h's fields; names that are not tokens are skipped and
// CR/LF in values become spaces (net/http does the same: no response
// splitting).
func appendHeaders(b []byte, h http.Header, exclude map[string]bool) []byte {
	for k, vs := range h {
		if exclude[k] || !validFieldName(k) {
			continue
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			b = appendField(b, k, strings.TrimSpace(v))
		}
	}
	return b
}

var newlineToSpace = strings.NewReplacer("\r", " ", "\n", " ")

func appendField(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	b = append(b, v...)
	return append(b, "\r\n"...)
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func hasToken(v, token string) bool {
	for f := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(f), token) {
			return true
		}
	}
	return false
}

// httpDate is the current Date value, formatted once per second.
func httpDate() []byte {
	now := time.Now()
	if d := cachedDate.Load(); d != nil && d.sec == now.Unix() {
		return d.b
	}
	d := &dateEntry{sec: now.Unix(), b: now.UTC().AppendFormat(nil, http.TimeFormat)}
	cachedDate.Store(d)
	return d.b
}

type dateEntry struct {
	sec int64
	b   []byte
}

var cachedDate atomic.Pointer[dateEntry]

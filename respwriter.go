package uringd

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// sink is where a blocking response's bytes go: the detached request's
// engine.Stream (io_uring: posted to the worker that owns the connection;
// netpoll: written to the net.Conn).
type sink = engine.Stream

// corker is a sink that can defer waking its engine to Finish (the io_uring
// worker's Stream.Cork).
type corker interface{ Cork() }

// rwBufSize is how much of a body the writer holds before it must commit to
// a framing: a response whose body fits and that is not flushed gets a
// Content-Length; a longer one is streamed chunked (HTTP/1.1) or
// close-delimited (HTTP/1.0). net/http holds 2 KiB; more means fewer
// chunked responses and fewer, bigger posts to the worker.
const rwBufSize = 32 << 10

// rwPassMin: a body write at least this long is posted as it is, not
// gathered in the output buffer first: a copy saved is worth a post.
const rwPassMin = 8 << 10

// sniffLen is how much of the body http.DetectContentType looks at.
const sniffLen = 512

// errAfterReturn: the response was completed when the handler returned.
var errAfterReturn = errors.New("uringd: ResponseWriter used after the handler returned")

// rwBuffers is what a responseWriter needs only while it runs, pooled: the
// http1.Response that frames every byte (its scratch stays allocated), the
// output buffer, and the start of the body for sniffing (a HEAD response
// keeps no body in resp).
type rwBuffers struct {
	resp  http1.Response
	buf   []byte
	sniff [sniffLen]byte
}

// Room for the held body plus a head, so holding and committing do not grow
// the buffer.
const rwBufCap = rwBufSize + 2048

var rwPool = sync.Pool{New: func() any { return &rwBuffers{buf: make([]byte, 0, rwBufCap)} }}

// responseWriter implements ResponseWriter (http.ResponseWriter and
// http.Flusher) over a sink. The policy is net/http's (the conformance
// tests compare them): the body is held until it is complete or passes
// rwBufSize (then it has a Content-Length) or is flushed (then it streams),
// Content-Type is sniffed when unset, http.ErrBodyNotAllowed and
// http.ErrContentLength. The bytes are http1's: status line, Date, field
// validation, framing and the no-body statuses come from http1.Response, as
// for a plain handler, so the same response has the same head whichever
// kind of handler wrote it. It is used by one goroutine, the handler's.
type responseWriter struct {
	s    sink
	req  *http1.Request
	hdr  http.Header
	isHE bool // HEAD request

	status      int
	wroteHeader bool // the status is decided (WriteHeader or first Write)
	committed   bool // the head went to out (framing decided)
	sf          http1.StreamFraming
	clen        int64 // declared or computed Content-Length; -1 unknown
	written     int64 // body bytes the handler wrote
	err         error // first sink error: later writes fail with it

	b    *rwBuffers      // nil once finished
	resp *http1.Response // &b.resp: before commit it holds the body
	out  []byte          // after commit: head and framed body not yet posted

	// finished is set once the response is complete (the handler returned):
	// atomic, because a goroutine the handler left behind may still call it.
	finished atomic.Bool

	ctx blockingCtx // the handler's context (blocking.go)
}

func newResponseWriter(s sink) *responseWriter {
	r := s.Request()
	b := rwPool.Get().(*rwBuffers)
	rw := &responseWriter{s: s, req: r, isHE: r.IsHead(), status: 200, clen: -1, b: b, resp: &b.resp}
	rw.resp.Reset(b.buf[:0], r, nil)
	return rw
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
		}
	}
}

// interim sends a 1xx response (e.g. 103 Early Hints) ahead of the final
// one: no Date (as net/http), and none to an HTTP/1.0 client, which would
// take it for the final response (RFC 9110 section 15.2). Nothing of the
// body is held yet: a Write would have decided the status.
func (rw *responseWriter) interim(code int) {
	if rw.req.ProtoMinor == 0 {
		return
	}
	w := rw.resp
	w.Reset(rw.b.buf[:0], nil, nil)
	w.SetStatus(code)
	rw.setFields(code)
	rw.post(w.Finish())
	w.Reset(rw.b.buf[:0], rw.req, nil)
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
	if !http1.BodyAllowed(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.clen >= 0 && rw.written+int64(len(p)) > rw.clen { // declared by the handler
		return 0, http.ErrContentLength
	}
	if !rw.committed {
		// A declared length past the buffer is committed at once: holding
		// its start would only copy it (net/http commits after 2 KiB).
		if rw.written+int64(len(p)) <= rwBufSize && rw.clen <= rwBufSize {
			rw.hold(p)
			return len(p), nil
		}
		rw.commit(false, p)
	}
	rw.written += int64(len(p))
	rw.body(p)
	return len(p), rw.err
}

// hold keeps p in resp (the body before the head) and its start for sniffing.
func (rw *responseWriter) hold(p []byte) {
	if rw.written < sniffLen {
		copy(rw.b.sniff[rw.written:], p)
	}
	rw.written += int64(len(p))
	_, _ = rw.resp.Write(p)
}

// WriteString is Write for a string (io.StringWriter).
func (rw *responseWriter) WriteString(s string) (int, error) {
	return rw.Write([]byte(s))
}

// body frames p after the head as FinishStream said into out, posting when
// out is full; a large p is posted without copying into out.
func (rw *responseWriter) body(p []byte) {
	if rw.sf == http1.StreamNoBody || len(p) == 0 {
		return
	}
	chunked := rw.sf == http1.StreamChunked
	b := rw.out
	if chunked {
		b = http1.AppendChunkHeader(b, len(p))
	}
	if len(b)+len(p) <= rwBufSize && len(p) < rwPassMin {
		b = append(b, p...)
	} else {
		// Posted as it is: the sink may take it without a copy (a view
		// of a streamed body's window, io.Copy(w, body)).
		if len(b) > 0 {
			rw.post(b)
		}
		rw.post(p)
		b = b[:0]
	}
	if chunked {
		b = http1.AppendChunkEnd(b)
	}
	rw.out = b
	if len(b) >= rwBufSize {
		rw.flushOut()
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
	rw.flushOut()
}

func (rw *responseWriter) flushOut() {
	if len(rw.out) > 0 {
		rw.post(rw.out)
		rw.out = rw.out[:0]
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
	if rw.sf == http1.StreamChunked {
		rw.out = http1.AppendLastChunk(rw.out)
	}
	if c, ok := rw.s.(corker); ok {
		c.Cork() // what is left goes out with the Finish below: one wakeup for both
	}
	rw.flushOut()
	// Fewer bytes than declared: the client would wait for the rest.
	short := rw.sf == http1.StreamLength && rw.written != rw.clen
	rw.end(rw.resp.WillClose() || short || rw.err != nil)
}

// end marks the response complete (before the buffers go back: a goroutine
// the handler left behind then fails its writes instead of using them) and
// tells the sink whether to close.
func (rw *responseWriter) end(closeConn bool) {
	status, sent := rw.status, rw.written
	if !rw.wroteHeader {
		status = 500 // a panic or abort before anything was written
	}
	if rw.sf == http1.StreamNoBody || rw.req.IsHead() {
		sent = 0
	}
	rw.s.Answered(status, sent)
	rw.finished.Store(true)
	rw.release()
	rw.s.Finish(closeConn)
}

// release gives the buffers back; out may have grown past the pooled
// buffer, and is kept instead when it is not much bigger.
func (rw *responseWriter) release() {
	b := rw.b
	if b == nil {
		return
	}
	if cap(rw.out) >= rwBufCap && cap(rw.out) <= 2*rwBufCap {
		b.buf = rw.out[:0]
	}
	rw.b, rw.resp, rw.out = nil, nil, nil
	rwPool.Put(b)
}

// commit decides the framing, with the rules of net/http's
// chunkWriter.writeHeader, and has http1 put the head in front of the body
// held so far. done: the handler has returned, so the held body is all of
// it. next is the write that did not fit (its start is sniffed when nothing
// is held).
func (rw *responseWriter) commit(done bool, next []byte) {
	rw.committed = true
	h, w := rw.hdr, rw.resp
	// A handler's Transfer-Encoding asks for a streamed body: it is chunked
	// (or until close for HTTP/1.0), and a Content-Length is dropped, as
	// net/http does. "identity" is no coding (RFC 9112 dropped it) and
	// asks for nothing.
	if te := h.Get("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		rw.clen = -1
	} else if done && rw.clen < 0 && http1.BodyAllowed(rw.status) && (!rw.isHE || rw.written > 0) {
		rw.clen = rw.written // a HEAD handler that wrote nothing leaves the length unknown
	}
	w.SetStatus(rw.status)
	w.SetDate(http1.CurrentDate())
	if _, haveType := h["Content-Type"]; !haveType && http1.BodyAllowed(rw.status) &&
		h.Get("Content-Encoding") == "" && h.Get("Transfer-Encoding") == "" {
		sniff := rw.b.sniff[:min(rw.written, sniffLen)]
		if len(sniff) == 0 {
			sniff = next[:min(len(next), sniffLen)]
		}
		if len(sniff) > 0 {
			w.SetContentType(http.DetectContentType(sniff))
		}
	}
	rw.setFields(rw.status)
	w.SetContentLength(rw.clen)
	rw.out, rw.sf = w.FinishStream()
}

// setFields gives the handler's header fields to resp in name order (as
// net/http writes them), with net/http's leniency: CR and LF in a value
// become spaces and the value is trimmed. resp refuses what cannot be sent
// (a name that is not a token, a value with another control byte) and the
// framing fields it writes itself; 304 drops Content-Type, as net/http does.
func (rw *responseWriter) setFields(status int) {
	var arr [32]string
	keys := arr[:0]
	for k := range rw.hdr {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w := rw.resp
	for _, k := range keys {
		switch {
		case k == "Content-Length", k == "Transfer-Encoding":
			continue // framing: resp writes its own
		case k == "Content-Type" && status == 304:
			continue
		}
		for _, v := range rw.hdr[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			v = strings.TrimSpace(v)
			if k == "Connection" && rw.req.KeepAlive10 && strings.EqualFold(v, "keep-alive") {
				continue // resp says it for an HTTP/1.0 keep-alive request
			}
			_ = w.AddHeader(k, v)
		}
	}
}

var newlineToSpace = strings.NewReplacer("\r", " ", "\n", " ")

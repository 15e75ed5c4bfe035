package http1

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// BufferPool supplies a larger output buffer when a response outgrows the
// one it was given (the rare path: a big body). Get returns a slice with
// len 0 and cap >= size; Put takes back one that Get returned.
type BufferPool interface {
	Get(size int) []byte
	Put(b []byte)
}

var (
	// ErrInvalidHeader: a header name that is not a token, or a value with
	// CR, LF or another control byte (response splitting, RFC 9110 §5.5).
	ErrInvalidHeader = errors.New("http1: invalid header name or value")
	// ErrReservedHeader: Content-Length and Transfer-Encoding are written by
	// the Response itself; letting a handler set them could desync framing.
	ErrReservedHeader = errors.New("http1: header is set by the response writer")
)

// Response writes one response, appended to a caller-provided buffer.
//
// Ordering: the head must precede the body on the wire, but its
// Content-Length is only known once the body is written, and handlers may
// set headers after writing. So the body goes straight into the output
// buffer at the point where the response starts, user header lines are kept
// serialized in a small scratch, and Finish composes the head (also in
// scratch), moves the body up by the head's length with one memmove and
// copies the head in front. The body, the part of unbounded size, is
// written once into its final buffer and moved at most once; the head —
// typically 100–300 bytes — is copied once. A fixed gap reserved for the
// head would either waste bytes on the wire (padding) or still need the
// move whenever the gap is wrong; so the gap Reset leaves is the length of
// the last head Finish composed, which a keep-alive client asking the same
// thing again gets again: then the body does not move at all.
//
// A Response is reused across requests (Reset); its scratch buffers then
// stay allocated, so steady state allocates nothing.
type Response struct {
	// Pool, if set, supplies the bigger buffer when the output outgrows
	// cap(dst); otherwise the Go heap does. See Grown.
	Pool BufferPool

	dst      []byte
	start    int  // len(dst) at Reset: where this response begins
	gap      int  // bytes kept free at start for the head: the body begins at start+gap
	grown    bool // dst is no longer the caller's: see Grown
	fromPool bool // and it came from Pool (so it goes back there)

	status    int
	head      bool  // HEAD request: count the body, keep none of it
	clen      int64 // SetContentLength's declared length; -1 none
	headCount int   // body bytes a HEAD response would have had
	close     bool  // "Connection: close"
	keep10    bool  // HTTP/1.0 keep-alive: "Connection: keep-alive"
	http10    bool  // HTTP/1.0 request: no chunked framing (RFC 9112 §7)
	date      []byte
	ctype     string
	hdr       []byte // user field lines, serialized "Name: value\r\n"
	scratch   []byte // the head, composed by Finish
	sent      int64  // body bytes Finish kept (BodySent)

	// last is what the head in scratch was composed from, when Finish
	// composed it: a keep-alive client tends to ask the same thing again,
	// and then the same head is reused instead of composed.
	last headKey
}

// headKey is everything Finish's head depends on. date and hdr are copies
// (the Date line is rewritten in place once a second; hdr is reused).
type headKey struct {
	valid   bool
	status  int
	fr      bodyFraming
	bodyLen int
	close   bool
	keep10  bool
	ctype   string
	date    []byte
	hdr     []byte
}

// Reset starts a response to req appended after dst's length. req may be nil
// (an answer to a request that failed to parse: HTTP/1.1, not HEAD). date is
// the whole Date field line, as DateCache.Bytes or CurrentDate return it;
// nil omits Date.
func (w *Response) Reset(dst []byte, req *Request, date []byte) {
	w.dst = dst
	w.start = len(dst)
	// The head goes in front of the body, which is written first. A
	// keep-alive client tends to get the same head again, so the body
	// starts after room for the last head: when the new one has its
	// length, Finish copies it into the gap and moves no body byte.
	w.gap = 0
	if w.last.valid && len(w.scratch) <= cap(dst)-len(dst) {
		w.gap = len(w.scratch)
		w.dst = dst[:w.start+w.gap]
	}
	w.grown = false
	w.fromPool = false
	w.status, w.sent = 200, 0
	w.head = false
	w.clen = -1
	w.headCount = 0
	w.close = false
	w.keep10 = false
	w.http10 = false
	if req != nil {
		w.head = req.IsHead()
		w.close = req.Close
		w.keep10 = req.KeepAlive10
		w.http10 = req.ProtoMinor == 0
	}
	w.date = date
	w.ctype = ""
	w.hdr = w.hdr[:0]
}

// SetStatus sets the status code (default 200). Like net/http, a code
// outside 100..999 is a programming error and panics.
func (w *Response) SetStatus(code int) {
	if code < 100 || code > 999 {
		panic("http1: invalid status code " + strconv.Itoa(code))
	}
	w.status = code
}

// Status is the status code set (200 unless SetStatus said otherwise).
func (w *Response) Status() int { return w.status }

// BodySent is the length of the body Finish framed: 0 for HEAD and for the
// statuses that have no body (what an access log calls body bytes sent).
func (w *Response) BodySent() int64 { return w.sent }

// SetDate replaces the Date field line given to Reset (nil omits Date): a
// response composed over time takes the time its head is sent.
func (w *Response) SetDate(line []byte) { w.date = line }

// SetContentLength declares the length of a body FinishStream's caller
// sends after the head: the head says Content-Length: n and FinishStream
// returns StreamLength, so the caller must send n bytes in all (or close the
// connection after fewer). Finish ignores it: there the length is the body's.
// n < 0 withdraws it.
func (w *Response) SetContentLength(n int64) { w.clen = max(n, -1) }

// SetClose makes the response say "Connection: close"; the caller closes
// the connection after sending it (see WillClose).
func (w *Response) SetClose() { w.close = true }

// WillClose reports whether the connection must be closed after this
// response: the request asked for it (RFC 9112 §9.3) or SetClose was called.
func (w *Response) WillClose() bool { return w.close }

// Grown reports whether Finish returned a new buffer instead of the dst
// given to Reset (which the Response never hands to Pool: it may still be
// in flight). The caller owns the new buffer; FromPool says whether it came
// from Pool, and so goes back there after sending.
func (w *Response) Grown() bool { return w.grown }

// FromPool reports whether the buffer Finish returned came from Pool.
func (w *Response) FromPool() bool { return w.grown && w.fromPool }

// SetContentType sets Content-Type. A value with a control byte is ignored
// (the signature has no error, and writing it would split the response).
func (w *Response) SetContentType(v string) {
	if v == w.last.ctype || validValue(v) { // the last head's was checked
		w.ctype = v
	}
}

// SetHeader sets a header field, replacing any earlier value of that name.
// It refuses names that are not tokens and values with CR, LF or other
// control bytes. Content-Type goes to SetContentType, "Connection: close" to
// SetClose, Date replaces the cached Date; Content-Length and
// Transfer-Encoding are refused (the writer computes framing).
func (w *Response) SetHeader(name, value string) error {
	return w.setHeader(name, value, nil, true)
}

// SetHeaderBytes is SetHeader with a []byte value (copied; not retained).
func (w *Response) SetHeaderBytes(name string, value []byte) error {
	return w.setHeader(name, "", value, true)
}

// AddHeader adds a field line without removing earlier ones of the same
// name (Set-Cookie). Same rules as SetHeader.
func (w *Response) AddHeader(name, value string) error {
	return w.setHeader(name, value, nil, false)
}

// setHeader takes the value as a string or, if vb != nil, as bytes, so
// neither form is converted (a conversion would allocate).
func (w *Response) setHeader(name, vs string, vb []byte, replace bool) error {
	if !validName(name) || !validValue(vs) || !validValueBytes(vb) {
		return ErrInvalidHeader
	}
	switch {
	case strings.EqualFold(name, "Content-Length"), strings.EqualFold(name, "Transfer-Encoding"):
		return ErrReservedHeader
	case strings.EqualFold(name, "Content-Type") && vb == nil:
		w.ctype = vs
		return nil
	case strings.EqualFold(name, "Connection") && (equalFold(vb, "close") || vb == nil && strings.EqualFold(vs, "close")):
		w.close = true
		return nil
	case strings.EqualFold(name, "Connection") && (hasCloseOption(vs) || hasCloseOption(vb)):
		// Connection options are a case-insensitive list (RFC 9110
		// section 7.6.1): "close" anywhere in it closes. The field is kept
		// for its other options; Finish adds "Connection: close".
		w.close = true
	case strings.EqualFold(name, "Date"):
		w.date = nil
	}
	if replace {
		w.delHeader(name)
	}
	w.hdr = append(w.hdr, name...)
	w.hdr = append(w.hdr, ": "...)
	w.hdr = append(w.hdr, vs...)
	w.hdr = append(w.hdr, vb...)
	w.hdr = append(w.hdr, "\r\n"...)
	return nil
}

// hasCloseOption reports whether a Connection field value lists "close".
func hasCloseOption[T string | []byte](v T) bool {
	start := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] != ',' {
			continue
		}
		a, b := start, i
		for a < b && (v[a] == ' ' || v[a] == '\t') {
			a++
		}
		for b > a && (v[b-1] == ' ' || v[b-1] == '\t') {
			b--
		}
		if b-a == len("close") && v[a]|0x20 == 'c' && v[a+1]|0x20 == 'l' && v[a+2]|0x20 == 'o' &&
			v[a+3]|0x20 == 's' && v[a+4]|0x20 == 'e' {
			return true
		}
		start = i + 1
	}
	return false
}

// delHeader removes the user field lines named name.
func (w *Response) delHeader(name string) {
	h := w.hdr
	for i := 0; i < len(h); {
		end := i + bytes.Index(h[i:], []byte("\r\n")) + 2
		if c := i + len(name); c < end && h[c] == ':' && equalFold(h[i:c], name) {
			h = append(h[:i], h[end:]...)
			continue
		}
		i = end
	}
	w.hdr = h
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !valueTable[s[i]] {
			return false
		}
	}
	return true
}

func validValueBytes(b []byte) bool {
	for _, c := range b {
		if !valueTable[c] {
			return false
		}
	}
	return true
}

// Write appends p to the body. It never fails; the error is for io.Writer.
func (w *Response) Write(p []byte) (int, error) {
	if w.head {
		w.headCount += len(p)
		return len(p), nil
	}
	w.reserve(len(p))
	w.dst = append(w.dst, p...)
	return len(p), nil
}

// WriteString appends s to the body.
func (w *Response) WriteString(s string) (int, error) {
	if w.head {
		w.headCount += len(s)
		return len(s), nil
	}
	w.reserve(len(s))
	w.dst = append(w.dst, s...)
	return len(s), nil
}

// headRoom is what a grown buffer keeps free beyond the body for the head
// that Finish inserts (besides the user's header lines): status line, Date,
// Content-Type, Content-Length, Connection.
const headRoom = 512

// reserve makes room for n more bytes in dst, from Pool if there is one.
func (w *Response) reserve(n int) {
	need := len(w.dst) + n
	if need <= cap(w.dst) {
		return
	}
	// Head room: Finish puts the head in front of the body, so a buffer
	// sized to the body alone would be replaced (the body copied again)
	// right there.
	size := max(2*cap(w.dst), need+headRoom+len(w.hdr), 4096)
	var nb []byte
	fromPool := false
	if w.Pool != nil {
		nb = w.Pool.Get(size)
		fromPool = cap(nb) >= need
		if !fromPool && nb != nil {
			w.Pool.Put(nb) // too small for us: give it straight back
		}
	}
	if !fromPool {
		nb = make([]byte, 0, size)
	}
	nb = append(nb[:0], w.dst...)
	if w.grown && w.fromPool {
		w.Pool.Put(w.dst[:0]) // an earlier growth of ours, never the caller's dst
	}
	w.dst = nb
	w.grown = true
	w.fromPool = fromPool
}

// Finish completes the response and returns dst with it appended:
// status line, Date, Content-Type, user headers, Content-Length (the body's
// length; for HEAD the length the body would have had), Connection when
// needed, and the body. 1xx, 204 and 304 responses have neither body nor
// Content-Length (RFC 9110 §8.6, §15.3.5, §15.4.5); a body written for them
// is dropped.
func (w *Response) Finish() []byte {
	bodyLen := w.bodyLen()
	if w.head {
		bodyLen = w.headCount
	}
	fr := frameLength
	if w.noBodyStatus() {
		fr = frameNone
	}
	h := w.finishHead(fr, bodyLen)
	if fr == frameNone || w.head {
		w.dropBody()
	}
	w.insertHead(h)
	w.sent = int64(len(w.dst) - w.start - len(h))
	return w.dst
}

// finishHead returns the head in scratch: the last one if nothing it
// depends on changed, else a newly composed one.
func (w *Response) finishHead(fr bodyFraming, bodyLen int) []byte {
	k := &w.last
	if k.valid && k.status == w.status && k.fr == fr && k.bodyLen == bodyLen &&
		k.close == w.close && k.keep10 == w.keep10 && k.ctype == w.ctype &&
		bytes.Equal(k.date, w.date) && (len(w.hdr) == 0 && len(k.hdr) == 0 || bytes.Equal(k.hdr, w.hdr)) {
		return w.scratch
	}
	w.scratch = w.appendHead(w.scratch[:0], fr, int64(bodyLen))
	*k = headKey{valid: true, status: w.status, fr: fr, bodyLen: bodyLen, close: w.close,
		keep10: w.keep10, ctype: w.ctype,
		date: append(k.date[:0], w.date...), hdr: append(k.hdr[:0], w.hdr...)}
	return w.scratch
}

func (w *Response) noBodyStatus() bool { return !BodyAllowed(w.status) }

// bodyLen is the length of the body written so far.
func (w *Response) bodyLen() int { return len(w.dst) - w.start - w.gap }

func (w *Response) dropBody() { w.dst = w.dst[:w.start+w.gap] }

// insertHead puts h in front of the body written so far: a copy of h into
// the gap Reset left, and, only when h does not fit it exactly, one memmove
// of the body (see the type comment for why).
func (w *Response) insertHead(h []byte) {
	if d := len(h) - w.gap; d != 0 {
		if d > 0 {
			w.reserve(d)
		}
		body := w.dst[w.start+w.gap:]
		w.dst = w.dst[:len(w.dst)+d]
		copy(w.dst[w.start+len(h):], body) // the regions overlap
	}
	copy(w.dst[w.start:], h)
	w.gap = 0
}

// bodyFraming is how a response body is delimited (RFC 9112 §6.3).
type bodyFraming uint8

const (
	frameLength  bodyFraming = iota // Content-Length
	frameNone                       // no body and no length: 1xx, 204, 304
	frameChunked                    // Transfer-Encoding: chunked
	frameClose                      // HTTP/1.0 stream: closing the connection ends the body
)

func (w *Response) appendHead(b []byte, fr bodyFraming, bodyLen int64) []byte {
	if w.status < 600 {
		b = append(b, statusLine[w.status]...)
	} else {
		b = append(b, "HTTP/1.1 "...)
		b = strconv.AppendInt(b, int64(w.status), 10)
		b = append(b, " \r\n"...)
	}
	b = append(b, w.date...)
	if w.ctype != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, w.ctype...)
		b = append(b, "\r\n"...)
	}
	b = append(b, w.hdr...)
	switch fr {
	case frameLength:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, bodyLen, 10)
		b = append(b, "\r\n"...)
	case frameChunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if w.close {
		b = append(b, "Connection: close\r\n"...)
	} else if w.keep10 {
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	return append(b, "\r\n"...)
}

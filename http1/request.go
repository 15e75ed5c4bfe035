package http1

// Header is one field line of a request. Name and Value are views into the
// caller's buffer; Value has its surrounding whitespace removed.
type Header struct {
	Name, Value []byte
}

// Request is one parsed request. Every []byte is a view into the buffer the
// request was parsed from: valid until that buffer is reused or modified, so
// a handler that keeps any of it past its return must copy.
type Request struct {
	Method []byte
	Target []byte // request-target exactly as sent
	Path   []byte // Target up to the first '?' (absolute-form: the path after the authority, "/" if empty)
	Query  []byte // after the first '?', without it; nil if there is no '?'

	ProtoMinor int // 0 or 1: HTTP/1.0 or HTTP/1.1

	// Headers holds every field line in order. Its capacity is fixed by the
	// caller (Parser.Init or, for ParseHead, cap(Headers) on entry); a request
	// with more field lines is refused with 431.
	Headers []Header

	// Host is the Host header value; nil if absent (only allowed in
	// HTTP/1.0). For an absolute-form target RFC 9112 §3.2.2 says the
	// target's authority wins; the router should prefer it then.
	Host          []byte
	ContentLength int64 // -1 when absent (no body, or chunked)
	Chunked       bool  // Transfer-Encoding: chunked
	// Close reports that the connection must be closed after the response
	// (RFC 9112 §9.3): HTTP/1.0 without "keep-alive", or "Connection: close".
	Close bool
	// KeepAlive10 reports an HTTP/1.0 request that asked for a persistent
	// connection; the response must then say "Connection: keep-alive".
	KeepAlive10 bool
	// ExpectContinue reports "Expect: 100-continue" in an HTTP/1.1 request
	// (RFC 9110 §10.1.1 says to ignore it in HTTP/1.0).
	ExpectContinue bool

	// Body is the complete body: Content-Length bytes, or the chunked body
	// decoded in place. nil when there is none.
	Body []byte

	pv pathValues // set by the router: PathValue (pathvalue.go)
}

// reset clears everything but the header storage, which keeps its capacity.
func (r *Request) reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}

// Header returns the value of the first field named name (ASCII
// case-insensitive), or nil if there is none. It does not allocate.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value
		}
	}
	return nil
}

// IsHead reports whether the method is HEAD (the response then has no body).
func (r *Request) IsHead() bool {
	return string(r.Method) == "HEAD"
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Limits bound what one request may make the server hold. Going past a limit
// gets the matching status and a closed connection.
type Limits struct {
	MaxURI         int   // request-target bytes; over it: 414
	MaxHeaderBytes int   // request line + field lines (and, separately, trailers); over it: 431
	MaxHeaders     int   // field lines; over it: 431
	MaxBody        int64 // decoded body bytes; over it: 413
	// MaxStreamBody bounds a body the caller reads as a stream (ReleaseBody,
	// BodyReader) rather than whole; 0: MaxBody. A head whose
	// Content-Length is over MaxBody but within MaxStreamBody is parsed,
	// and its body refused (413) unless the caller streams it.
	MaxStreamBody int64
}

// StreamMax is the longest body read as a stream.
func (l *Limits) StreamMax() int64 {
	if l.MaxStreamBody > 0 {
		return l.MaxStreamBody
	}
	return l.MaxBody
}

// anyBodyMax is the longest body a head may announce.
func (l *Limits) anyBodyMax() int64 { return max(l.MaxBody, l.StreamMax()) }

// DefaultLimits are sane values for a public server: they fit the largest
// requests browsers send (long cookies) and keep a connection's memory small.
var DefaultLimits = Limits{
	MaxURI:         8 << 10,
	MaxHeaderBytes: 16 << 10,
	MaxHeaders:     64,
	MaxBody:        4 << 20,
}

// withDefaults returns l with every zero field replaced by DefaultLimits'.
func (l Limits) withDefaults() Limits {
	if l.MaxURI == 0 {
		l.MaxURI = DefaultLimits.MaxURI
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if l.MaxHeaders == 0 {
		l.MaxHeaders = DefaultLimits.MaxHeaders
	}
	if l.MaxBody == 0 {
		l.MaxBody = DefaultLimits.MaxBody
	}
	return l
}

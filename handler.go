package uringd

import "github.com/uringd/uringd/http1"

// Request is a parsed HTTP/1.1 request.
//
// Ownership: every []byte in a Request (Method, Target, Path, Query, Host,
// header names and values, Body) is a view into the worker's receive buffer,
// valid only until the handler returns; the buffer is then reused for other
// connections' bytes. A handler that needs any of it later must copy it:
// CopyBytes for one field, CloneRequest for all of them. Config.
// DebugPoisonBuffers makes a kept view read as garbage ('\xdd' bytes), so the
// mistake shows in tests. PathValue gives the value of a wildcard of the
// route's pattern ("GET /items/{id}": r.PathValue("id")), also a view.
//
// Request is an alias: `go doc github.com/uringd/uringd/http1.Request` shows
// its fields and methods. A handler reads the fields Method, Target, Path,
// Query, ProtoMinor, Headers, Host, ContentLength, Chunked, Close and Body,
// and calls:
//
//	func (r *Request) Header(name string) []byte      // first field named name (case-insensitive), nil if none
//	func (r *Request) PathValue(name string) []byte   // the pattern's wildcard {name}, nil if none
//	func (r *Request) PathValueNames() []string       // the pattern's wildcard names
//	func (r *Request) IsHead() bool                   // a HEAD request: the body written is not sent
//
// SetPathValues is the router's; a handler does not call it.
type Request = http1.Request

// Header is one request header field (views, see Request).
type Header = http1.Header

// Response writes the answer to one request into the connection's output
// buffer; Date, Content-Length (or the chunked framing) and Connection are
// added by the server. It is valid only during the handler call.
//
// It is http1.Response with only the handler's methods: the engine composes
// the response around the handler's call with http1.Response's others
// (Reset, Finish, FinishStream, SetDate, SetContentLength, ...). A
// *Response and a *http1.Response convert into each other for free.
type Response http1.Response

func (w *Response) h1() *http1.Response { return (*http1.Response)(w) }

// SetStatus sets the status code (default 200); see http1.Response.SetStatus.
func (w *Response) SetStatus(code int) { w.h1().SetStatus(code) }

// SetHeader sets a header field, replacing any earlier value of that name.
// It refuses names that are not tokens, values with CR, LF or other control
// bytes, and Content-Length and Transfer-Encoding (the server frames the
// body); see http1.Response.SetHeader.
func (w *Response) SetHeader(name, value string) error { return w.h1().SetHeader(name, value) }

// SetHeaderBytes is SetHeader with a []byte value (copied; not retained).
func (w *Response) SetHeaderBytes(name string, value []byte) error {
	return w.h1().SetHeaderBytes(name, value)
}

// AddHeader adds a field line without removing earlier ones of the same
// name (Set-Cookie). Same rules as SetHeader.
func (w *Response) AddHeader(name, value string) error { return w.h1().AddHeader(name, value) }

// SetContentType sets Content-Type (a value that cannot be sent is ignored).
func (w *Response) SetContentType(v string) { w.h1().SetContentType(v) }

// Write appends p to the body.
func (w *Response) Write(p []byte) (int, error) { return w.h1().Write(p) }

// WriteString appends s to the body.
func (w *Response) WriteString(s string) (int, error) { return w.h1().WriteString(s) }

// SetClose makes the response say "Connection: close"; the server closes
// the connection after sending it.
func (w *Response) SetClose() { w.h1().SetClose() }

// WillClose reports whether the connection closes after this response.
func (w *Response) WillClose() bool { return w.h1().WillClose() }

// Handler serves HTTP requests. ServeHTTP runs on a worker's event loop
// thread: it must not block (no disk, network or lock waits), or every
// connection of that worker waits with it (Config.SlowHandler logs one that
// does). A panic answers 500 for that request, is logged with its stack, and
// the worker goes on. Handlers that block are registered through adapters
// that return a Handler: Blocking for a BlockingHandler, FromHTTP for a
// net/http handler (an http.Handler is not a Handler: its ServeHTTP takes
// other types, so Server.Handle refuses it at compile time).
type Handler interface {
	ServeHTTP(w *Response, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *Response, r *Request)

// ServeHTTP calls f(w, r).
func (f HandlerFunc) ServeHTTP(w *Response, r *Request) { f(w, r) }

// CopyBytes returns a copy of b that outlives the handler call (nil for nil).
func CopyBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// CloneRequest returns a deep copy of r whose views point into one fresh
// allocation, so it stays valid after the handler returns (http1.Request.Clone).
func CloneRequest(r *Request) *Request {
	c := r.Clone()
	return &c
}

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
// buffer; Date, Content-Length and Connection are added by the server. It is
// valid only during the handler call.
//
// Response is an alias: `go doc github.com/uringd/uringd/http1.Response`
// shows its methods. A handler calls:
//
//	func (w *Response) SetStatus(code int)                             // default 200
//	func (w *Response) SetHeader(name, value string) error             // replaces a field of that name
//	func (w *Response) SetHeaderBytes(name string, value []byte) error // the same, value from bytes
//	func (w *Response) AddHeader(name, value string) error             // one more field line
//	func (w *Response) SetContentType(v string)
//	func (w *Response) Write(p []byte) (int, error)                    // appends to the body
//	func (w *Response) WriteString(s string) (int, error)
//	func (w *Response) SetClose()                                      // "Connection: close", then close
//	func (w *Response) WillClose() bool
//
// The header setters refuse (with an error) a name or value that cannot be
// sent, and the fields the server frames itself. Reset, Finish,
// FinishStream, SetDate, SetContentLength, Grown, FromPool and the Pool field
// belong to the engines, which compose the response around the handler's
// call; a handler does not call them.
type Response = http1.Response

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

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
type Request = http1.Request

// Header is one request header field (views, see Request).
type Header = http1.Header

// Response writes the answer to one request into the connection's output
// buffer: SetStatus, SetHeader, SetContentType, Write/WriteString; Date,
// Content-Length and Connection are added by the server. It is valid only
// during the handler call.
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

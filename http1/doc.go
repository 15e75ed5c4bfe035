// Package http1 turns bytes into HTTP/1.1 requests and responses into bytes,
// for uringd's per-core event loops.
//
// It knows nothing of sockets or io_uring: the caller hands it the bytes the
// kernel received and a buffer to write the response into, so every rule is
// tested and fuzzed without a kernel.
//
// Parsing is zero-copy and incremental. A Request's fields are views into the
// caller's buffer, valid until that buffer is reused. "Need more bytes" is the
// ordinary result ErrIncomplete, and the Parser keeps its progress as offsets,
// so the caller may move the unconsumed bytes to another buffer between calls.
// Framing follows RFC 9112 strictly: anything that could let two parsers
// disagree about where a request ends (request smuggling) is refused with a
// typed *Error that names the status to answer before closing the connection.
//
// Nothing on the hot path allocates: header storage has a capacity fixed by the
// caller, and the Response writer appends into the caller's output buffer.
//
// Request and Response have two kinds of caller. A handler (package uringd
// gives them to handlers as uringd.Request and uringd.Response) reads the
// request's fields, Header and PathValue, and writes with SetStatus, the
// header setters, SetContentType, Write, WriteString and SetClose. The server
// that owns the connection frames the response around that call: Reset
// before the handler, Finish (a complete body) or FinishStream (a body sent
// later, with SetContentLength) after it, SetDate, Grown and FromPool for its
// buffers, and Request.SetPathValues for the router.
package http1

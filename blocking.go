package uringd

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"runtime/debug"

	"github.com/uringd/uringd/internal/engine"
)

// BlockingHandler serves a request that may block: disk, database, another
// service, a lock. It runs on a goroutine of the server's offload pool
// (Config.BlockingWorkers, Config.BlockingQueue), never on a worker's event
// loop, and its response is handed back to the worker that owns the
// connection, which sends it in order with the requests pipelined behind it.
//
// r is an owned copy of the request: its views stay valid until
// ServeBlocking returns. ctx is cancelled when the client goes away or
// shuts down its sending side (as in net/http: at EOF a half-close cannot
// be told from a close); what the handler writes still goes out, to a
// client that only half-closed, and writes fail once the connection is
// known to be gone. Write streams: with Flush, or past 32 KiB of body without a
// Content-Length header, the body goes out chunked as it is written; a body
// that fits and is not flushed gets a Content-Length. A producer that writes
// faster than the client reads blocks in Write (Config.MaxPendingOutput
// bytes are queued per connection at most). A panic answers 500 if nothing
// was sent yet, and closes the connection.
type BlockingHandler interface {
	ServeBlocking(ctx context.Context, w ResponseWriter, r *Request)
}

// BlockingHandlerFunc adapts a function to BlockingHandler.
type BlockingHandlerFunc func(ctx context.Context, w ResponseWriter, r *Request)

// ServeBlocking calls f(ctx, w, r).
func (f BlockingHandlerFunc) ServeBlocking(ctx context.Context, w ResponseWriter, r *Request) {
	f(ctx, w, r)
}

// ResponseWriter is a blocking handler's streaming response: net/http's
// http.ResponseWriter and http.Flusher (so net/http helpers such as
// http.Error, http.ServeContent or json.NewEncoder(w) work with it).
type ResponseWriter interface {
	http.ResponseWriter
	http.Flusher
}

type remoteAddrKey struct{}

// blockingCtx is a blocking handler's context: the stream's, plus the
// client's address for RemoteAddr. It lives inside the responseWriter, so
// it costs no allocation of its own (context.WithValue would).
type blockingCtx struct {
	context.Context
	remote string
	body   io.Reader // a streamed body (StreamingBody); nil when it is in r.Body
	tls    *tls.ConnectionState
}

type bodyKey struct{}

func (c *blockingCtx) Value(key any) any {
	switch key.(type) {
	case remoteAddrKey:
		return c.remote
	case bodyKey:
		return c.body
	case tlsKey:
		return c.tls
	}
	return c.Context.Value(key)
}

// Body returns a reader of the request body for a blocking handler: the
// body as it arrives when the handler streams its body (StreamingBody, and
// every net/http handler), else a reader over r.Body. A streamed body is
// never held whole in memory; its Read fails if the client goes away before
// its end (http1.ErrBodyTruncated) or its chunked framing is bad.
func Body(ctx context.Context, r *Request) io.Reader {
	if b, ok := ctx.Value(bodyKey{}).(io.Reader); ok && b != nil {
		return b
	}
	return bytes.NewReader(r.Body)
}

// StreamingBody makes h read its request body as it arrives, with
// Body(ctx, r), rather than from r.Body once all of it has arrived: h is
// called as soon as the request's head is in, r.Body is nil when the body
// was not complete by then, and the body is never held whole in memory
// (the server keeps at most a window of it per connection). Config.MaxStreamBody
// still bounds its length. A handler that returns before reading the whole
// body closes the connection after its response (where the next request
// starts is unknown). Handlers served through FromHTTP always stream their
// body. Register it with Blocking(StreamingBody(h)).
func StreamingBody(h BlockingHandler) BlockingHandler {
	if h == nil {
		panic("uringd: StreamingBody(nil)")
	}
	return streamingBody{h}
}

type streamingBody struct{ BlockingHandler }

func (streamingBody) streamsBody() bool { return true }

// streamsBody reports whether h reads its body as it arrives.
func streamsBody(h BlockingHandler) bool {
	sb, ok := h.(interface{ streamsBody() bool })
	return ok && sb.streamsBody()
}

// RemoteAddr returns the client's "ip:port" from a BlockingHandler's ctx
// ("" if unknown).
func RemoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

// Blocking adapts a BlockingHandler to a Handler for Server.Handle: the
// request is handed to the offload pool and h answers it there, off the
// event loop:
//
//	srv.Handle("GET /user/{id}", uringd.Blocking(h))
func Blocking(h BlockingHandler) Handler {
	if h == nil {
		panic("uringd: Blocking(nil)")
	}
	if f, ok := h.(BlockingHandlerFunc); ok && f == nil {
		panic("uringd: Blocking(nil func)")
	}
	return newOffloader(h)
}

// BlockingFunc is Blocking for a function.
func BlockingFunc(f func(ctx context.Context, w ResponseWriter, r *Request)) Handler {
	if f == nil {
		panic("uringd: BlockingFunc(nil)")
	}
	return newOffloader(BlockingHandlerFunc(f))
}

// Offload, called by a plain Handler during ServeHTTP, hands the request to
// the blocking pool to be answered by h; the handler must return right after
// and not touch w again (what it wrote to w is discarded). It lets a handler
// decide per request: answer small things inline, offload the slow ones
// (a static file handler offloads a large file). It returns false when the
// request cannot be offloaded (w is not the server's current response); the
// handler then answers inline. With the io_uring engine the connection is not
// read further until h is done; a full pool queue answers 503.
func Offload(w *Response, r *Request, h BlockingHandler) bool {
	if h == nil {
		panic("uringd: Offload with a nil BlockingHandler")
	}
	// One closure per offloaded request, allocated only when Offload is called.
	return engine.Detach(w.h1(), func(s engine.Stream) { serveBlocking(s, h) }) == nil
}

// offloader is the Handler that Blocking and FromHTTP return. Its run
// function is allocated once, at registration, not per request.
type offloader struct {
	h      BlockingHandler
	stream bool // h reads its body as it arrives (StreamingBody)
	run    func(engine.Stream)
}

func newOffloader(h BlockingHandler) *offloader {
	if h == nil {
		panic("uringd: nil BlockingHandler")
	}
	o := &offloader{h: h, stream: streamsBody(h)}
	o.run = func(s engine.Stream) { serveBlocking(s, o.h) }
	return o
}

func (o *offloader) ServeHTTP(w *Response, r *Request) {
	if !o.offload(w) {
		w.SetStatus(500)
		w.SetContentType("text/plain; charset=utf-8")
		_, _ = w.WriteString("blocking handler without an offload pool\n")
	}
}

func (o *offloader) offload(w *Response) bool {
	return engine.Detach(w.h1(), o.run) == nil
}

// serveBlocking runs h on the pool goroutine and completes its response.
func serveBlocking(s sink, h BlockingHandler) {
	rw := newResponseWriter(s)
	rw.ctx = blockingCtx{Context: s.Context(), remote: s.RemoteAddr(), body: s.Body(), tls: engine.StreamTLS(s)}
	ctx := &rw.ctx
	defer func() {
		if p := recover(); p != nil {
			blockingPanic(rw, p)
			return
		}
		rw.finish()
	}()
	h.ServeBlocking(ctx, rw, rw.req)
}

// blockingPanic answers 500 if nothing was committed yet, and closes the
// connection either way (a half-sent response cannot be repaired).
func blockingPanic(rw *responseWriter, p any) {
	if p == http.ErrAbortHandler {
		rw.end(true)
		return
	}
	rw.s.Logger().Error("blocking handler panic", "path", string(rw.req.Path), "panic", p,
		"stack", string(debug.Stack()))
	if rw.committed {
		rw.end(true)
		return
	}
	rw.hdr = http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Connection": {"close"}}
	rw.resp.Reset(rw.b.buf[:0], rw.req, nil) // drop the held body
	rw.wroteHeader, rw.status, rw.clen, rw.written = true, 500, -1, 0
	_, _ = rw.Write([]byte("Internal Server Error\n"))
	rw.finish()
}

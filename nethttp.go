package uringd

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"time"
)

// FromHTTP adapts any net/http handler (http.ServeMux with Go 1.22
// patterns, http.FileServer, a third-party router) to a Handler for
// Server.Handle: it runs on the offload pool, off the worker thread, like
// a blocking handler:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /hello/{name}", hello)
//	srv.Handle("/", uringd.FromHTTP(mux)) // every path no other pattern matches
//
// The *http.Request has Method, URL, RequestURI, Proto, Header (canonical
// keys, Host removed as net/http does), Host, ContentLength (-1 for a
// chunked body, with TransferEncoding ["chunked"]), Close, RemoteAddr, TLS
// (the connection's state over HTTPS, with URL.Scheme "https" and URL.Host
// the request's Host; nil over cleartext), and a Body that reads the request body as it arrives (streamed: a
// body is never held whole in memory; Config.MaxStreamBody bounds its length; a
// handler that does not read it to the end closes the connection after its
// response). Its Context is cancelled when the client goes
// away. The wildcards of the uringd pattern it was registered with are set
// (r.PathValue). The http.ResponseWriter is also an http.Flusher; a Flush, or a body
// over 32 KiB without Content-Length, streams it chunked (HTTP/1.1).
// Hijack and HTTP/2 are not supported.
func FromHTTP(h http.Handler) Handler {
	if h == nil {
		panic("uringd: FromHTTP(nil)")
	}
	if f, ok := h.(http.HandlerFunc); ok && f == nil {
		panic("uringd: FromHTTP(nil func)")
	}
	return newOffloader(httpAdapter{h})
}

type httpAdapter struct{ h http.Handler }

// net/http handlers read Request.Body as a stream.
func (httpAdapter) streamsBody() bool { return true }

func (a httpAdapter) ServeBlocking(ctx context.Context, w ResponseWriter, r *Request) {
	req, err := toHTTPRequest(ctx, r)
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	a.h.ServeHTTP(w, req)
}

// toHTTPRequest builds net/http's view of an owned request (strings are
// copies; the body reader reads r.Body, which stays valid while the handler
// runs).
func toHTTPRequest(ctx context.Context, r *Request) (*http.Request, error) {
	target := string(r.Target)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, err
	}
	req := &http.Request{
		Method:     string(r.Method),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: r.ProtoMinor,
		Header:     make(http.Header, len(r.Headers)),
		Host:       string(r.Host),
		Close:      r.Close,
		RemoteAddr: RemoteAddr(ctx),
		RequestURI: target,
		TLS:        TLS(ctx),
	}
	if req.TLS != nil && u.Host == "" {
		u.Scheme, u.Host = "https", req.Host // where the client reached: an absolute URL
	}
	if r.ProtoMinor == 0 {
		req.Proto = "HTTP/1.0"
	}
	if req.Host == "" {
		req.Host = u.Host
	}
	for _, name := range r.PathValueNames() {
		req.SetPathValue(name, string(r.PathValue(name)))
	}
	for _, f := range r.Headers {
		k := textproto.CanonicalMIMEHeaderKey(string(f.Name))
		if k == "Host" {
			continue
		}
		req.Header[k] = append(req.Header[k], string(f.Value))
	}
	streamed, _ := ctx.Value(bodyKey{}).(io.Reader)
	switch {
	case streamed != nil:
		req.ContentLength = r.ContentLength
		if r.Chunked {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		}
		req.Body = io.NopCloser(streamed)
	case r.Chunked:
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
		req.Body = io.NopCloser(bytes.NewReader(r.Body))
	case len(r.Body) > 0:
		req.ContentLength = int64(len(r.Body))
		req.Body = io.NopCloser(bytes.NewReader(r.Body))
	default:
		req.Body = http.NoBody
	}
	return req.WithContext(ctx), nil
}

// FlushError flushes and reports a failure (http.ResponseController).
func (rw *responseWriter) FlushError() error {
	rw.Flush()
	return rw.err
}

// SetWriteDeadline is accepted for http.ResponseController; the server's
// WriteTimeout governs instead.
func (rw *responseWriter) SetWriteDeadline(time.Time) error { return nil }

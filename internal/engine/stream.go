package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"syscall"

	"github.com/uringd/uringd/http1"
)

// Stream is a detached response: the contract between a handler that
// handed its request over (Detach) and the engine that owns the
// connection. The producer, on a goroutine of the Pool, writes the
// complete response (status line, headers, framed body) and calls Finish;
// the engine sends it in order with the responses around it.
type Stream interface {
	// Request is an owned copy of the request, valid until Finish.
	Request() *http1.Request
	// RemoteAddr is the client's "ip:port" ("" if unknown).
	RemoteAddr() string
	// Logger is the server's Config.Logger, for the producer's own logs.
	Logger() *slog.Logger
	// Context is cancelled when the client goes away (or, at EOF alone,
	// shuts its sending side), at a forced shutdown, and at Finish.
	Context() context.Context
	// Write sends raw, already framed response bytes; p may be reused
	// once it returns. It blocks while the connection's output is full
	// (Config.MaxPendingOutput) and fails once the connection is gone.
	Write(p []byte) (int, error)
	// Finish ends the response; closeConn closes the connection after it.
	Finish(closeConn bool)
	// Body reads a streamed request body as it arrives (Config.StreamBody);
	// nil when the body is in Request().Body.
	Body() io.Reader
	// SendFile sends n bytes of the file f (an *os.File) from off as the next bytes of the
	// response, after what was written before, without copying them
	// through user space where the connection allows it (sendfile(2));
	// errors.ErrUnsupported where it does not (the caller copies). A short
	// count comes with an error.
	SendFile(f syscall.Conn, off, n int64) (int64, error)
	// Answered reports the response's status and body length, for the
	// access log (Config.AccessLog) and the counters (Stats.Responses): the
	// producer knows them, the engine the rest. Called once, before Finish.
	Answered(status int, bodyBytes int64)
}

// Detacher is an engine's side of Detach: the connection (or event loop)
// whose handler is running with the *http1.Response it was registered with.
type Detacher interface {
	// DetachCurrent arranges for run to answer the request being served,
	// once the handler returns; ErrNotDetachable if it cannot.
	DetachCurrent(run func(Stream)) error
}

// ErrNotDetachable: Detach was given a Response no engine is serving a
// handler with right now, or the engine has no Pool.
var ErrNotDetachable = errors.New("uringd: Detach outside a handler of the server, or no offload pool")

// detachers maps the *http1.Response each engine passes to its handlers
// to the engine's Detacher, so that Detach, given only that Response,
// finds its owner without a goroutine-local. One registry for both engines:
// an io_uring worker registers its one Response at setup, a netpoll
// connection its own for its life. A Load of a pointer key does not
// allocate.
var detachers sync.Map // *http1.Response -> Detacher

// Register makes resp detachable through d until Unregister.
func Register(resp *http1.Response, d Detacher) { detachers.Store(resp, d) }

// Unregister forgets resp.
func Unregister(resp *http1.Response) { detachers.Delete(resp) }

// Detach, called by a Handler during ServeHTTP, hands the request being
// answered through resp to run: once the handler returns, what it wrote to
// resp is discarded and run is called, on a Pool goroutine, with the
// request's Stream. If the pool's queue is full, run is never called and
// the client gets 503. It does not allocate.
func Detach(resp *http1.Response, run func(Stream)) error {
	v, ok := detachers.Load(resp)
	if !ok || run == nil {
		return ErrNotDetachable
	}
	return v.(Detacher).DetachCurrent(run)
}

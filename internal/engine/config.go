package engine

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/proxyproto"
)

// Handler serves one request. r and everything it points to, and w, are
// valid only during the call; on the io_uring engine it runs on the
// worker's event loop.
type Handler interface {
	ServeHTTP(w *http1.Response, r *http1.Request)
}

// Config is what both engines take from uringd.Config, per worker (one
// io_uring event loop, or one netpoll accept loop): the uringd package
// defaults and validates it (see uringd.Config for each field's meaning).
type Config struct {
	Handler Handler
	Logger  *slog.Logger
	Limits  http1.Limits

	MaxConns         int // open connections of this worker; over it: 503 and close
	MaxPendingOutput int // a connection's output queued before it is sent out
	// MaxBodyBuffer bounds the input buffers of all the worker's
	// connections (unfinished requests, their bodies above all); a request
	// that would pass it is answered 503. 0: no bound.
	MaxBodyBuffer      int
	HeaderTimeout      time.Duration
	BodyTimeout        time.Duration
	MinBodyRate        int64 // bytes/s, after MinBodyRateGrace
	MinBodyRateGrace   time.Duration
	RequestReadTimeout time.Duration
	IdleTimeout        time.Duration
	WriteTimeout       time.Duration

	// Offload runs detached responses (Detach); shared by all workers of
	// a server. nil: Detach refuses.
	Offload *Pool

	// StreamBody reports whether the request in req, whose head is parsed
	// and whose body is still to come, goes to a handler that reads its
	// body as it arrives (Stream.Body): that handler is called at once and
	// must Detach. nil: bodies are always received in full first.
	StreamBody func(req *http1.Request) bool

	// ProxyFrom lists the addresses whose connections begin with a PROXY
	// protocol header (v1 or v2) giving the real client's address; nil:
	// none do.
	ProxyFrom *proxyproto.Allow

	// AccessLog receives one line per answered request; nil: none. Each
	// worker has its own sink.
	AccessLog *accesslog.Sink

	// TLS, when set, serves TLS on every connection: the netpoll engine
	// wraps each in crypto/tls; the io_uring engine takes its own acceptor
	// built from it (worker.Config). HandshakeTimeout bounds a handshake
	// and MaxHandshakes the handshakes of one worker in progress at once
	// (over it, a new connection is closed).
	TLS              *tls.Config
	HandshakeTimeout time.Duration
	MaxHandshakes    int

	// DebugPoisonBuffers overwrites a request's bytes with 0xdd once it is
	// answered, so a handler that kept a view reads garbage (tests only).
	DebugPoisonBuffers bool
}

// StitchMax bounds a connection's input buffer whose first buffer holds
// first bytes: a head, a body (decoded: a chunked body's framing is
// dropped as it arrives), a trailer section or chunk line in progress, and
// one receive beyond. Past it the request is refused (413).
func (c *Config) StitchMax(first int) int {
	l := &c.Limits
	return 2*l.MaxHeaderBytes + int(l.MaxBody) + first + 64<<10
}

// AcceptLogEvery rate-limits the log of a failing accept (EMFILE & co),
// which would otherwise repeat at the rate of incoming connections.
const AcceptLogEvery = 10 * time.Second

// ErrServerClosed is what serving returns after a shutdown.
var ErrServerClosed = errors.New("uringd: server closed")

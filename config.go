package uringd

import (
	"crypto/tls"
	"fmt"
	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/proxyproto"
	"log/slog"
	"os"
	"time"
)

// Defaults used by Config for every field left at its zero value.
const (
	DefaultAddr              = ":8080"
	DefaultMaxConnsPerWorker = 16384
	DefaultMaxHeaderBytes    = 16 << 10 // request line + headers
	DefaultMaxHeaders        = 64
	DefaultMaxURI            = 8 << 10
	DefaultMaxBody           = 4 << 20
	DefaultMaxStreamBody     = 1 << 30
	DefaultMaxPendingOutput  = 512 << 10
	// DefaultMaxBodyBufferPerWorker is the least default budget; it grows
	// to hold two requests of MaxBody (see Config.MaxBodyBufferPerWorker).
	DefaultMaxBodyBufferPerWorker = 128 << 20
	DefaultHeaderTimeout          = 10 * time.Second
	DefaultBodyTimeout            = 30 * time.Second
	DefaultMinBodyRate            = 1 << 10 // bytes per second
	DefaultMinBodyRateGrace       = 30 * time.Second
	DefaultRequestReadTimeout     = 15 * time.Minute
	DefaultIdleTimeout            = 60 * time.Second
	DefaultWriteTimeout           = 30 * time.Second
	DefaultTick                   = 100 * time.Millisecond
	DefaultSlowHandler            = 100 * time.Millisecond
	DefaultRingEntries            = 1024
	DefaultRecvBufferSize         = 16 << 10
	DefaultRecvBuffers            = 256
	DefaultHandshakeTimeout       = 10 * time.Second
	DefaultMaxHandshakesPerWorker = 256
)

// Config configures a Server. The zero value is usable: every zero field takes
// the matching Default* constant. Negative values are rejected by New.
type Config struct {
	// Addr is the TCP address to listen on, "host:port". Port 0 picks a free
	// port (see Server.Addr). Default ":8080".
	Addr string

	// Listeners are already-open listening TCP sockets to serve on instead
	// of opening new ones on Addr (which is then ignored): systemd's socket
	// activation (see SystemdListeners), or the
	// sockets a previous process handed over in a binary upgrade (see
	// Server.ListenerFiles). The server uses dups: the caller keeps its
	// files and may close them once Start returned. Each worker needs a
	// socket to accept on: with fewer sockets than Workers, SO_REUSEPORT
	// siblings bound to the same address are added (the inherited sockets
	// need SO_REUSEPORT, and must have been created by the same user);
	// with Workers 0 and more sockets than CPUs, there is one worker per
	// socket. All must be bound to the same address.
	Listeners []*os.File

	// Workers is the number of event loops, one per OS thread, each pinned to
	// one CPU of the process's affinity mask (round robin when there are more
	// workers than CPUs), each on its own SO_REUSEPORT listener. Default: the
	// number of CPUs the process may use. On the netpoll engine a worker is
	// an accept loop on its own listener (its connections' goroutines run on
	// any CPU), so the per-worker bounds below mean the same on both engines.
	Workers int

	// MaxConnsPerWorker bounds the open connections of one worker. A
	// connection accepted over the limit is answered 503 and closed.
	MaxConnsPerWorker int

	// MaxHeaderBytes bounds the request line plus headers (431 past it).
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields (431 past it).
	MaxHeaders int
	// MaxURI bounds the request target (414 past it).
	MaxURI int
	// MaxBody bounds a request body a handler gets whole in memory (plain
	// and blocking handlers' r.Body), Content-Length or chunked: 413 past
	// it.
	MaxBody int64
	// MaxBodyBufferPerWorker bounds the memory one worker holds for requests
	// still arriving (their bodies above all), over all its connections; a
	// request that would take more is answered 503 and its connection
	// closed. A body costs memory as it arrives, up to twice its size (the
	// buffer grows by doubling), not when its head declares it. Default:
	// DefaultMaxBodyBufferPerWorker, or 4×MaxBody + 1 MiB if that is more,
	// so that two bodies of MaxBody fit.
	MaxBodyBufferPerWorker int64
	// MaxStreamBody bounds a body its handler reads as it arrives
	// (StreamingBody, net/http handlers), which the server never holds
	// whole (a window of it per connection): 413 past it. Default 1 GiB.
	MaxStreamBody int64
	// MaxPendingOutput is how much unsent response data a connection may hold
	// before the server stops reading from it until the client catches up.
	// It is also what a slow reader costs: a streamed response's producer
	// blocks at it, so 50 clients reading at a few hundred KiB/s hold about
	// 50 times this. Default 512 KiB.
	MaxPendingOutput int

	// HeaderTimeout is the time a client has, from the first byte of a
	// request, to send the complete request head (slowloris defence).
	HeaderTimeout time.Duration
	// BodyTimeout is the longest the server waits between two reads of a
	// request body that is not yet complete.
	BodyTimeout time.Duration
	// MinBodyRate (bytes per second) and MinBodyRateGrace bound a request
	// body that trickles in, each read within BodyTimeout of the last (as
	// Apache's mod_reqtimeout MinRate): from the body's start, the client
	// has MinBodyRateGrace plus one second per MinBodyRate bytes it has
	// sent; past that the connection closes. Defaults 1 KiB/s and 30s.
	MinBodyRate      int64
	MinBodyRateGrace time.Duration
	// RequestReadTimeout bounds the whole read of one request, head and
	// body, from its first byte; a connection that has not sent it all by
	// then closes, however steadily its bytes come. Time during which the
	// server does not read (the client's earlier responses are being sent,
	// a streamed body's handler is not taking bytes) does not count.
	// Default 15 minutes.
	RequestReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request in progress.
	IdleTimeout time.Duration
	// WriteTimeout closes a connection whose pending output makes no progress.
	WriteTimeout time.Duration
	// Tick is the resolution of the timer wheel; timeouts never fire early
	// and fire up to two Ticks late. Default 100ms.
	Tick time.Duration

	// DisableMultishot forces single-shot accept and recv, re-armed after
	// each completion (the Linux 5.10 path), even when the kernel has
	// multishot operations.
	DisableMultishot bool
	// DisableBufRing forces classic provided buffers (IORING_OP_PROVIDE_BUFFERS)
	// instead of a ring-mapped buffer group.
	DisableBufRing bool
	// DisableShutdownOp makes the lingering close call shutdown(2) instead
	// of submitting IORING_OP_SHUTDOWN (5.11+), as it does on Linux 5.10.
	DisableShutdownOp bool
	// KeepGOMAXPROCS leaves GOMAXPROCS as it is. By default Start raises it
	// to at least Workers+1, and each worker waits for completions in a raw
	// io_uring_enter that keeps its P: the spare P runs every other goroutine
	// (blocking handlers, timers, GC), and the Go scheduler stops waking
	// every 20µs to hand a waiting worker's P to another thread (measured:
	// about half of the worker's context-switch time on one core; see
	// uring.Options.RawWait). With KeepGOMAXPROCS workers wait in a syscall
	// the scheduler sees, which is slower but never holds a P.
	KeepGOMAXPROCS bool

	// DebugPoisonBuffers overwrites every receive buffer with a pattern ('\xdd')
	// as soon as the server is done with it, so a handler that keeps a view of
	// the request past its return reads garbage in its tests instead of a
	// plausible-looking later request. It costs a memset per buffer: tests only.
	DebugPoisonBuffers bool

	// RingEntries is the submission queue size of each worker's ring (power of
	// two). The completion queue is four times larger.
	RingEntries int
	// RecvBufferSize and RecvBuffers size each worker's receive buffer group:
	// the kernel picks one of these buffers per receive.
	RecvBufferSize int
	RecvBuffers    int

	// Logger receives startup, error and panic logs. Default slog.Default().
	Logger *slog.Logger
	// ProxyProtocolFrom lists the load balancers (HAProxy, an AWS NLB, ...)
	// whose connections begin with a PROXY protocol header, v1 or v2,
	// carrying the real client's address: handlers (RemoteAddr), the access
	// log and the limits then see that address. A connection from a listed
	// address without a valid header is closed unanswered; one from any
	// other address is served as it is (a header from it is a bad request).
	// Empty (the default): the PROXY protocol is off.
	ProxyProtocolFrom proxyproto.Allow

	// AccessLog, if set, gets one line per request (package accesslog:
	// accesslog.Open(path, accesslog.Combined, logger)); each worker writes
	// to its own sink without blocking, and lines the destination cannot
	// take are dropped and counted (Stats.AccessLogDropped). The caller
	// closes it after the server has stopped.
	AccessLog *accesslog.Log

	// SlowHandler is how long a plain handler may hold its worker's event
	// loop before it is logged (a warning with the duration, once per
	// route): a plain handler that blocks stalls every connection of its
	// worker. An io_uring worker times one plain request in 8 (the clock
	// costs more than routing), so a handler that is slow on most calls is
	// caught within a few. Default 100ms.
	SlowHandler time.Duration

	// Engine selects io_uring (default), the portable netpoll engine, or
	// auto (io_uring, else netpoll with a logged reason). See engine.go.
	Engine Engine
	// BlockingWorkers bounds the goroutines running blocking handlers
	// (Blocking, Offload, FromHTTP), shared by all workers. Default 1024.
	BlockingWorkers int
	// BlockingQueue bounds the blocking requests waiting for one of those
	// goroutines; past it a request is answered 503. Default 4096.
	BlockingQueue int

	// TLS, when set, makes the server speak HTTPS only (see tls.go): it
	// needs Certificates, GetCertificate or GetConfigForClient; NextProtos
	// defaults to "http/1.1" (the only protocol served over TLS for now).
	// The server works on a clone: the Config is not modified. On the
	// io_uring engine the handshake runs in crypto/tls off the event loop
	// and TLS 1.3 records are protected by kernel TLS where the kernel has
	// it (DisableKTLS), by the loop itself otherwise; a TLS 1.2 connection
	// is served by crypto/tls on a goroutine while the loop keeps its
	// socket I/O. The netpoll engine serves through crypto/tls directly.
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake. Default 10s.
	HandshakeTimeout time.Duration
	// MaxHandshakesPerWorker bounds the TLS handshakes one worker has in
	// progress; a connection accepted over it is closed. Default 256.
	MaxHandshakesPerWorker int
	// DisableKTLS keeps every TLS 1.3 connection of the io_uring engine on
	// the loop's own record layer. By default a connection is handed to
	// kernel TLS after its handshake where the kernel has the tls module
	// (probed once; Linux's CONFIG_TLS) and takes its cipher suite: the
	// kernel then seals and opens its records and static files go out
	// with sendfile(2). See kernel-notes.md.
	DisableKTLS bool
}

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	setDefault(&c.Addr, DefaultAddr)
	setDefault(&c.MaxConnsPerWorker, DefaultMaxConnsPerWorker)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.MaxHeaders, DefaultMaxHeaders)
	setDefault(&c.MaxURI, DefaultMaxURI)
	setDefault(&c.MaxBody, DefaultMaxBody)
	setDefault(&c.MaxStreamBody, DefaultMaxStreamBody)
	setDefault(&c.MaxPendingOutput, DefaultMaxPendingOutput)
	setDefault(&c.MaxBodyBufferPerWorker, max(DefaultMaxBodyBufferPerWorker, 4*c.MaxBody+1<<20))
	setDefault(&c.HeaderTimeout, DefaultHeaderTimeout)
	setDefault(&c.BodyTimeout, DefaultBodyTimeout)
	setDefault(&c.MinBodyRate, DefaultMinBodyRate)
	setDefault(&c.MinBodyRateGrace, DefaultMinBodyRateGrace)
	setDefault(&c.RequestReadTimeout, DefaultRequestReadTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.Tick, DefaultTick)
	setDefault(&c.SlowHandler, DefaultSlowHandler)
	setDefault(&c.RingEntries, DefaultRingEntries)
	setDefault(&c.RecvBufferSize, DefaultRecvBufferSize)
	setDefault(&c.RecvBuffers, DefaultRecvBuffers)
	setDefault(&c.BlockingWorkers, DefaultBlockingWorkers)
	setDefault(&c.BlockingQueue, DefaultBlockingQueue)
	setDefault(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&c.MaxHandshakesPerWorker, DefaultMaxHandshakesPerWorker)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// validate reports the first field of a defaulted Config that is out of range.
func (c *Config) validate() error {
	checks := []struct {
		name     string
		val, min int64
		max      int64
	}{
		{"Workers", int64(c.Workers), 0, 4096},
		{"MaxConnsPerWorker", int64(c.MaxConnsPerWorker), 1, 1 << 24},
		{"MaxHeaderBytes", int64(c.MaxHeaderBytes), 256, 1 << 24},
		{"MaxHeaders", int64(c.MaxHeaders), 1, 1 << 16},
		{"MaxURI", int64(c.MaxURI), 16, 1 << 24},
		{"MaxBody", c.MaxBody, 0, 1 << 32},
		{"MaxStreamBody", c.MaxStreamBody, 0, 1 << 50},
		{"MaxPendingOutput", int64(c.MaxPendingOutput), 4096, 1 << 32},
		{"MaxBodyBufferPerWorker", c.MaxBodyBufferPerWorker, 64 << 10, 1 << 40},
		{"HeaderTimeout", int64(c.HeaderTimeout), int64(time.Millisecond), 1 << 62},
		{"BodyTimeout", int64(c.BodyTimeout), int64(time.Millisecond), 1 << 62},
		{"MinBodyRate", c.MinBodyRate, 1, 1 << 40},
		{"MinBodyRateGrace", int64(c.MinBodyRateGrace), int64(time.Millisecond), 1 << 62},
		{"RequestReadTimeout", int64(c.RequestReadTimeout), int64(time.Millisecond), 1 << 62},
		{"IdleTimeout", int64(c.IdleTimeout), int64(time.Millisecond), 1 << 62},
		{"WriteTimeout", int64(c.WriteTimeout), int64(time.Millisecond), 1 << 62},
		{"Tick", int64(c.Tick), int64(time.Millisecond), int64(time.Minute)},
		{"SlowHandler", int64(c.SlowHandler), int64(time.Millisecond), 1 << 62},
		{"RingEntries", int64(c.RingEntries), 8, 32768},
		{"RecvBufferSize", int64(c.RecvBufferSize), 512, 1 << 20},
		{"RecvBuffers", int64(c.RecvBuffers), 2, 32768},
		{"BlockingWorkers", int64(c.BlockingWorkers), 1, 1 << 20},
		{"BlockingQueue", int64(c.BlockingQueue), 1, 1 << 30},
		{"HandshakeTimeout", int64(c.HandshakeTimeout), int64(time.Millisecond), 1 << 62},
		{"MaxHandshakesPerWorker", int64(c.MaxHandshakesPerWorker), 1, 1 << 24},
	}
	for _, k := range checks {
		if k.val < k.min || k.val > k.max {
			return fmt.Errorf("uringd: Config.%s = %d is out of range [%d, %d]", k.name, k.val, k.min, k.max)
		}
	}
	switch c.Engine {
	case EngineIOUring, EngineNetpoll, EngineAuto:
	default:
		return fmt.Errorf("uringd: Config.Engine = %v: want EngineIOUring, EngineNetpoll or EngineAuto", c.Engine)
	}
	if !isPow2(c.RingEntries) {
		return fmt.Errorf("uringd: Config.RingEntries = %d must be a power of two", c.RingEntries)
	}
	if !isPow2(c.RecvBuffers) {
		return fmt.Errorf("uringd: Config.RecvBuffers = %d must be a power of two", c.RecvBuffers)
	}
	if c.MaxURI > c.MaxHeaderBytes {
		return fmt.Errorf("uringd: Config.MaxURI (%d) must not exceed Config.MaxHeaderBytes (%d)", c.MaxURI, c.MaxHeaderBytes)
	}
	return validateTLS(c.TLS)
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }

// Command uringd serves HTTP/1.1 on io_uring: one event loop per CPU.
//
//	uringd -addr :8080 -workers 2
//
// Routes: GET/HEAD / -> "Hello, World!"; GET /fibonacci -> fibonacci(10^6)
// in uint32 arithmetic; POST /echo -> the request body, streamed back as it
// arrives. With -root DIR: DIR's files instead (see package static), the
// demo routes only with -demo. SIGINT or SIGTERM shut it down gracefully
// (for up to -grace); a second one stops it at once. SIGUSR2 upgrades the
// binary without dropping a connection (upgrade.go); sockets passed by
// systemd's socket activation (LISTEN_FDS) are served instead of -addr.
// With -metrics ADDR: /metrics (Prometheus), /healthz and /readyz there (see
// package metrics); /readyz turns 503 as soon as the graceful shutdown starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/static"
	"github.com/uringd/uringd/uring"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("uringd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, logLevel, grace := defineFlags(fs)
	root := fs.String("root", "", "serve this directory's files at / (instead of the Hello World route and the demo routes)")
	demo := fs.Bool("demo", false, "with -root, also mount the demo routes /fibonacci and POST /echo (they win over files of those names)")
	listing := fs.Bool("listing", false, "with -root, list directories that have no index.html (default: 404)")
	notFound := fs.String("404", "", "with -root, this file under the root (e.g. 404.html) is the body of every 404")
	accessLog := fs.String("access-log", "", "write one line per request to this file (\"-\": standard output); SIGUSR1 reopens it (logrotate)")
	accessFormat := fs.String("access-log-format", "combined", "combined (nginx's, plus the request time) or json")
	metricsAddr := metricsFlag(fs)
	proxyProtocol := fs.Bool("proxy-protocol", false, "connections from -proxy-from addresses begin with a PROXY protocol header (v1 or v2) naming the real client")
	fs.Var(&cfg.ProxyProtocolFrom, "proxy-from", "with -proxy-protocol: the load balancers' addresses, CIDR[,CIDR...] (repeatable)")
	precompressed := fs.Bool("precompressed", false, "with -root, send f.br, f.zst or f.gz beside a file f to clients that accept that encoding (as nginx's gzip_static)")
	upgradeTimeout := fs.Duration("upgrade-timeout", 30*time.Second, "time the new process of a SIGUSR2 upgrade has to start serving before it is killed and this one keeps serving")
	shutdownDelay := shutdownDelayFlag(fs)
	tlsf := defineTLSFlags(fs)
	engine := fs.String("engine", "io_uring", "io_uring, netpoll (Go's net package: portable, slower) or auto (io_uring, else netpoll with a log line saying why)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "uringd: unexpected argument %q: uringd takes only flags\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	names := fieldNames(fs, cfg)
	names["NotFound"] = "-404" // static.Config's
	fail := func(code int, what string, err error) int {
		errorText(stderr, names, what, err)
		return code
	}
	if *root == "" && (*listing || *notFound != "" || *demo || *precompressed) {
		fmt.Fprintln(stderr, "uringd: -listing, -404, -precompressed and -demo go with -root")
		return 2
	}
	if *proxyProtocol != (cfg.ProxyProtocolFrom.Len() > 0) {
		fmt.Fprintln(stderr, "uringd: -proxy-protocol and -proxy-from go together: the header is trusted only from the load balancers' addresses")
		return 2
	}
	e, err := uringd.ParseEngine(*engine)
	if err != nil {
		fmt.Fprintf(stderr, "uringd: -engine %q: want io_uring, netpoll or auto\n", *engine)
		return 2
	}
	cfg.Engine = e
	if err := tlsf.check(); err != nil {
		fmt.Fprintf(stderr, "uringd: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "uringd: -log %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	format, err := accesslog.ParseFormat(*accessFormat)
	if err != nil {
		fmt.Fprintf(stderr, "uringd: -access-log-format: %v\n", strings.TrimPrefix(err.Error(), "access log format "))
		return 2
	}
	if *accessLog != "" {
		l, err := accesslog.Open(*accessLog, format, log)
		if err != nil {
			fmt.Fprintf(stderr, "uringd: -access-log: %v\n", strings.TrimPrefix(err.Error(), "access log: "))
			return 1
		}
		defer l.Close() // after serve: the workers have stopped
		cfg.AccessLog = l
		reopenOnSIGUSR1(log, l)
	}
	addrSet := false
	fs.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })
	in, err := takeInherited() // upgrade.go
	if err != nil {
		return fail(1, "cannot start", err)
	}
	cfg.Listeners = in.files
	tlsCfg, certs, err := tlsf.tlsConfig()
	if err != nil {
		fmt.Fprintf(stderr, "uringd: -tls-cert: %v\n", err)
		return 1
	}
	cfg.TLS = tlsCfg
	if certs != nil {
		reloadOnSIGHUP(log, certs) // from now: a SIGHUP must not kill the process
	}
	srv, err := uringd.New(*cfg)
	if err != nil {
		return fail(2, "", err)
	}
	if demoRoutes(*root, *demo) {
		routes(srv, *root == "")
	}
	if *root != "" {
		files, err := static.New(static.Config{Root: *root, Listing: *listing, NotFound: *notFound, Precompressed: *precompressed, Logger: log})
		if err != nil {
			what := "-root"
			if strings.Contains(err.Error(), "Config.NotFound") {
				what = "" // the message names -404 itself
			}
			return fail(2, what, err)
		}
		defer files.Close()
		files.Mount(srv)
	}
	m, err := startMetrics(*metricsAddr, srv, log) // before Start: a bad address fails first
	if err != nil {
		return fail(metricsExit(err), "-metrics", err)
	}
	defer m.stop()                               // after serve: the metrics outlive the drain
	redir, err := listenRedirect(*tlsf.redirect) // before Start too
	if err != nil {
		return fail(1, "-redirect-http", err)
	}
	defer redir.stop()
	// Before Start: a signal that comes as soon as the startup line is out
	// must shut down gracefully, not kill the process.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	defer signal.Stop(usr2)
	err = srv.Start()
	for _, f := range in.files {
		f.Close() // the server serves its own dups
	}
	if err != nil {
		return fail(1, "cannot start", err)
	}
	// Ready before the startup line: whoever waits for that line (a test,
	// a supervisor tailing the log) must find /readyz 200.
	m.ready()
	if len(in.files) > 0 {
		logInherited(log, in, srv, cfg.Addr, addrSet)
	}
	startupLine(log, srv, *root)
	redir.serve(log, srv)
	warnWorkers(log, cfg.Workers)
	// systemd first (a successor names itself the main process, for
	// Type=notify with NotifyAccess=all), then the predecessor, which
	// exits once it has drained.
	if in.ready != nil {
		sdNotify(fmt.Sprintf("MAINPID=%d\nREADY=1", os.Getpid()))
	} else {
		sdNotify("READY=1")
	}
	in.signalReady()
	return serve(log, srv, delaySignals(log, m.watch(sigs), *shutdownDelay), usr2, *grace, *upgradeTimeout)
}

// reopenOnSIGUSR1 reopens the access log on SIGUSR1, as nginx does: logrotate
// renames the file and signals; the lines go on in a new file of the old name.
func reopenOnSIGUSR1(log *slog.Logger, l *accesslog.Log) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			if err := l.Reopen(); err == nil {
				log.Info("access log reopened")
			}
		}
	}()
}

// demoRoutes decides whether /fibonacci and POST /echo are mounted: always
// without -root, only with -demo beside it, since a site's own /fibonacci
// or /echo would otherwise be shadowed by them.
func demoRoutes(root string, demo bool) bool {
	return root == "" || demo
}

// warnWorkers says that more workers than CPUs share them: each is a
// thread with its own ring, buffers and pinned CPU, so the extra ones cost
// memory and context switches and serve nothing faster.
func warnWorkers(log *slog.Logger, workers int) {
	if cpus := runtime.NumCPU(); workers > cpus {
		log.Warn("more workers than CPUs: they share the CPUs", "workers", workers, "cpus", cpus)
	}
}

// startupLine logs where the server listens, what it serves and which kernel features the
// workers use (the fast path needs multishot recv and a buffer ring).
func startupLine(log *slog.Logger, srv *uringd.Server, root string) {
	f := srv.Features()
	kernel := "?"
	if pr, err := uring.Probe(); err == nil {
		kernel = pr.Kernel
	}
	site := "(demo routes)"
	if root != "" {
		site = root
	}
	attrs := []any{"addr", srv.Addr().String(), "root", site, "engine", srv.Engine().String(),
		"workers", srv.Workers(), "kernel", kernel, "multishot", f.Has(uring.FeatMultishotRecv), "bufring", f.Has(uring.FeatBufRing),
		"io_uring", f.String()}
	if p := srv.TLSRecordPath(); p != "" {
		attrs = append(attrs, "tls", p)
	}
	log.Info("uringd serving", attrs...)
}

func defineFlags(fs *flag.FlagSet) (*uringd.Config, *string, *time.Duration) {
	c := &uringd.Config{}
	fs.StringVar(&c.Addr, "addr", uringd.DefaultAddr, "listen address host:port")
	fs.IntVar(&c.Workers, "workers", 0, "event loops, one per CPU (0: every CPU this process may use)")
	fs.IntVar(&c.MaxConnsPerWorker, "max-conns", uringd.DefaultMaxConnsPerWorker, "open connections per worker (over it: 503)")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", uringd.DefaultMaxHeaderBytes, "request line + headers limit (431)")
	fs.IntVar(&c.MaxHeaders, "max-headers", uringd.DefaultMaxHeaders, "header fields limit (431)")
	fs.IntVar(&c.MaxURI, "max-uri", uringd.DefaultMaxURI, "request target limit (414)")
	fs.Int64Var(&c.MaxBody, "max-body", uringd.DefaultMaxBody, "limit of a request body a handler gets whole in memory (413)")
	fs.Int64Var(&c.MaxBodyBufferPerWorker, "max-body-buffer", 0, "bytes a worker holds for requests still arriving, over all connections (over it: 503; 0: the larger of 128 MiB and 4×max-body + 1 MiB)")
	fs.Int64Var(&c.MaxStreamBody, "max-stream-body", uringd.DefaultMaxStreamBody, "limit of a request body streamed to its handler, as /echo's is (413)")
	fs.IntVar(&c.MaxPendingOutput, "max-pending-output", uringd.DefaultMaxPendingOutput, "unsent bytes per connection before reading pauses")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", uringd.DefaultHeaderTimeout, "time to send a request head")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", uringd.DefaultBodyTimeout, "time between reads of a request body")
	fs.Int64Var(&c.MinBodyRate, "min-body-rate", uringd.DefaultMinBodyRate, "bytes/s a request body must average once -min-body-rate-grace has passed")
	fs.DurationVar(&c.MinBodyRateGrace, "min-body-rate-grace", uringd.DefaultMinBodyRateGrace, "time a request body has before -min-body-rate applies")
	fs.DurationVar(&c.RequestReadTimeout, "request-read-timeout", uringd.DefaultRequestReadTimeout, "time to send a whole request, head and body")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", uringd.DefaultIdleTimeout, "keep-alive idle time")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", uringd.DefaultWriteTimeout, "time for pending output to make progress")
	fs.BoolVar(&c.DisableMultishot, "no-multishot", false, "use single-shot accept/recv (the Linux 5.10 path)")
	fs.BoolVar(&c.DisableBufRing, "no-bufring", false, "use classic provided buffers instead of a buffer ring")
	fs.BoolVar(&c.DisableKTLS, "no-ktls", false, "keep TLS 1.3 records in the userland record layer even where the kernel has kernel TLS (the tls module)")
	fs.BoolVar(&c.DisableShutdownOp, "no-shutdown-op", false, "use shutdown(2) instead of IORING_OP_SHUTDOWN (the Linux 5.10 path)")
	logLevel := fs.String("log", "info", "log level: debug, info, warn, error")
	grace := fs.Duration("grace", 10*time.Second, "graceful shutdown period before connections are closed")
	return c, logLevel, grace
}

// routes registers the demo routes (GET / only with hello: -root serves / instead).
func routes(s *uringd.Server, hello bool) {
	if hello {
		s.HandleFunc("GET /{$}", func(w *uringd.Response, r *uringd.Request) {
			w.SetContentType("text/plain")
			w.WriteString("Hello, World!")
		})
	}
	s.HandleFunc("GET /fibonacci", fibonacci)
	s.Handle("POST /echo", uringd.Blocking(uringd.StreamingBody(uringd.BlockingHandlerFunc(echo))))
}

// echo answers the request body as it arrives, so that an echo never holds
// a whole body: the server keeps a window of what comes in (Config's
// streamed-body window) and a bounded amount of what goes out (Write blocks
// past Config.MaxPendingOutput until the client reads), whatever the size.
// A Content-Length body is echoed with the same Content-Length, a chunked
// one chunked; the Content-Type is the request's (none if it had none).
// As with any streaming echo (net/http's io.Copy(w, r.Body) included), the
// client must read while it sends, as HTTP clients do: one that sends more
// than the socket buffers hold before it reads anything stalls, and the
// write timeout ends it.
func echo(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
	h := w.Header()
	if ct := r.Header("Content-Type"); ct != nil {
		h.Set("Content-Type", string(ct))
	} else {
		h["Content-Type"] = nil // not sniffed: an echo says nothing of its own
	}
	if r.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	// io.Copy uses the body's WriteTo: each write is a view of the
	// server's receive window, posted to the connection without a copy of
	// its own (no buffer here). A body cut short: the response, its length
	// promised, is short too, and the server closes the connection after it;
	// a write that fails: the client is gone.
	_, _ = io.Copy(w, uringd.Body(ctx, r))
}

// fibonacci computes fibonacci(10^6) in uint32 arithmetic (overflowing) per
// request, as the reference article does, and writes it without fmt so the
// handler stays allocation-free.
func fibonacci(w *uringd.Response, r *uringd.Request) {
	a, b := uint32(0), uint32(1)
	for i := 0; i < 1_000_000; i++ {
		a, b = b, a+b
	}
	var buf [64]byte
	out := append(buf[:0], "Fibonacci(10^6) = "...)
	out = strconv.AppendUint(out, uint64(a), 10)
	out = append(out, " (with overflow)\n"...)
	w.SetContentType("text/plain")
	w.Write(out)
}

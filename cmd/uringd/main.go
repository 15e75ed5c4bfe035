// Command uringd serves HTTP/1.1 on io_uring: one event loop per CPU.
//
//	uringd -addr :8080 -workers 2
//
// Routes: GET/HEAD / -> "Hello, World!" (with -root DIR: DIR's files, see
// package static); GET /fibonacci -> fibonacci(10^6) in uint32 arithmetic;
// POST /echo -> the request body, streamed back as it arrives. SIGINT or SIGTERM shut it down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/static"
	"github.com/uringd/uringd/uring"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr *os.File) int {
	fs := flag.NewFlagSet("uringd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, logLevel, grace := defineFlags(fs)
	root := fs.String("root", "", "serve this directory's files at / (instead of the Hello World route)")
	engine := fs.String("engine", "io_uring", "io_uring, netpoll (Go's net package: portable, slower) or auto (io_uring, else netpoll with a log line saying why)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	e, err := uringd.ParseEngine(*engine)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg.Engine = e
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "uringd: -log %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	srv, err := uringd.New(*cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	routes(srv, *root == "")
	if *root != "" {
		files, err := static.New(static.Config{Root: *root, Logger: log})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		defer files.Close()
		files.Mount(srv)
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "uringd: cannot start: %v\n", err)
		return 1
	}
	startupLine(log, srv)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		log.Info("shutting down", "signal", s.String(), "grace", grace.String())
		ctx, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("shutdown grace period over; connections closed", "err", err)
		}
	}()
	if err := srv.Wait(); !errors.Is(err, uringd.ErrServerClosed) {
		log.Error("server stopped", "err", err)
		return 1
	}
	st := srv.Stats().Total
	log.Info("bye", "accepted", st.Accepted, "requests", st.Requests, "loop_turns", st.Loops,
		"bytes_in", st.BytesIn, "bytes_out", st.BytesOut, "bad_requests", st.BadRequests, "panics", st.Panics)
	return 0
}

// startupLine logs where the server listens and which kernel features the
// workers use (the fast path needs multishot recv and a buffer ring).
func startupLine(log *slog.Logger, srv *uringd.Server) {
	f := srv.Features()
	kernel := "?"
	if pr, err := uring.Probe(); err == nil {
		kernel = pr.Kernel
	}
	log.Info("uringd serving", "addr", srv.Addr().String(), "engine", srv.Engine().String(),
		"workers", srv.Workers(), "kernel", kernel, "multishot", f.Has(uring.FeatMultishotRecv), "bufring", f.Has(uring.FeatBufRing),
		"io_uring", f.String())
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

// echoBufs are the copy buffers of /echo: a slow client holds one while
// it drains its echo, a finished one gives it back.
var echoBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

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
	buf := echoBufs.Get().(*[]byte)
	defer echoBufs.Put(buf)
	body := uringd.Body(ctx, r)
	for {
		n, err := body.Read(*buf)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return // the client is gone
			}
		}
		if err != nil {
			// A body cut short: the response, its length promised, is
			// short too, and the server closes the connection after it.
			return
		}
	}
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

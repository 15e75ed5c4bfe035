// Command celeris is the github.com/goceleris/celeris peer (io_uring and epoll
// engines) with the routes every benchmarked server serves (see
// bench/internal/routes). celeris is not on the module proxy: this is a module
// of its own whose replace directive for celeris is written by the bench
// harness at build time, pointing at ../shared/peers/celeris (see
// bench/README.md). Its worker count is GOMAXPROCS, set by the harness.
//
//	celeris -engine iouring|epoll -addr :8080 [-root DIR]
package main

import (
	"flag"
	"log"
	"runtime"
	"time"

	"github.com/goceleris/celeris"
	"github.com/uringd/uringd/bench/internal/routes"
	"golang.org/x/sys/unix"
)

// sleepFor is what GET /sleep blocks for, as in bench/servers/blocking.
const sleepFor = time.Millisecond

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	engineName := flag.String("engine", "iouring", "iouring | epoll")
	root := flag.String("root", "", "also serve the files of this directory (the static-file benchmark)")
	flag.Parse()

	if *engineName == "iouring" {
		allowWorkers(runtime.GOMAXPROCS(0))
	}
	var engine celeris.EngineType
	switch *engineName {
	case "iouring":
		engine = celeris.IOUring
	case "epoll":
		engine = celeris.Epoll
	default:
		log.Fatalf("unknown -engine %q", *engineName)
	}
	s := celeris.New(celeris.Config{
		Addr:     *addr,
		Engine:   engine,
		Protocol: celeris.HTTP1, // the bench speaks HTTP/1.1 only; skip h2c detection
		// Workers stays 0 (GOMAXPROCS): celeris refuses an explicit 1, and
		// the harness sets GOMAXPROCS to the worker count it wants.
		// The upload scenario posts 1 MiB bodies; the default limit (100 MB)
		// already allows them, stated so a change of default cannot skew it.
		MaxRequestBodySize: 4 << 20,
		// Metrics are on by default; the other peers count nothing per
		// request, so neither does this one.
		DisableMetrics: true,
	})
	s.GET("/", func(c *celeris.Context) error {
		return c.Blob(200, "text/plain", []byte(routes.HelloBody))
	})
	s.GET("/fibonacci", func(c *celeris.Context) error {
		var buf [64]byte
		return c.Blob(200, "text/plain", routes.AppendFibonacciBody(buf[:0]))
	})
	s.POST("/echo", func(c *celeris.Context) error {
		// Body is the whole request body, already received by the engine.
		return c.Blob(200, "text/plain", c.Body())
	})
	// The offload benchmark's blocking handler: Async runs it off the event
	// loop, as celeris advises for handlers that block.
	s.GET("/sleep", func(c *celeris.Context) error {
		time.Sleep(sleepFor)
		return c.Blob(200, "text/plain", []byte(routes.HelloBody))
	}).Async()
	if *root != "" {
		// celeris's own file path: sendfile(2) on epoll, read into memory
		// on io_uring (its Context.File).
		s.GET("/*path", func(c *celeris.Context) error {
			return c.FileFromDir(*root, c.Param("path"))
		})
	}
	log.Fatal(s.Start())
}

// memlockPerWorker is the RLIMIT_MEMLOCK celeris's io_uring engine wants per
// worker (engine/iouring minMemlockPerWorker); with less it runs fewer workers.
const memlockPerWorker = 12 << 20

// allowWorkers raises RLIMIT_MEMLOCK so the io_uring engine runs n workers:
// under the usual 8 MiB limit it caps itself at one, which would halve it in
// the all-workers scenario. The limit is set to exactly n workers' worth, not
// unlimited: celeris never runs fewer than two workers on its own, and the
// one-core scenarios give every server one worker.
func allowWorkers(n int) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return
	}
	want := uint64(max(n, 1)) * memlockPerWorker
	if lim.Max != ^uint64(0) && lim.Max < want {
		log.Printf("RLIMIT_MEMLOCK hard limit %d below %d: celeris may run fewer io_uring workers", lim.Max, want)
		want = lim.Max
	}
	lim.Cur = want
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		log.Printf("raising RLIMIT_MEMLOCK: %v", err)
	}
}

// Command blocking serves the offload benchmark (issue 5) from one binary,
// so every server answers exactly the same routes:
//
//	GET /sleep  sleeps 1 ms (a blocking call), then answers "Hello, World!"
//	GET /std    a net/http handler (http.ServeMux) answering "Hello, World!"
//	GET /       "Hello, World!" without blocking (reference)
//
// -server picks the implementation: uringd (blocking handler on the offload
// pool; /std through uringd.FromHTTP), uringd-netpoll (the same on the
// portable engine), nethttp (net/http itself), fasthttp.
//
//	taskset -c 0 env GOMAXPROCS=1 blocking -server uringd -addr :8080
//	taskset -c 1 wrk -t1 -c64 -d10s http://127.0.0.1:8080/sleep
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/bench/internal/routes"
	"github.com/valyala/fasthttp"
)

const sleepFor = time.Millisecond

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	server := flag.String("server", "uringd", "uringd | uringd-netpoll | nethttp | fasthttp")
	workers := flag.Int("workers", 1, "uringd workers")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here until SIGTERM/SIGINT")
	flag.Parse()
	if *cpuprofile != "" {
		profileUntilSignal(*cpuprofile)
	}
	switch *server {
	case "uringd", "uringd-netpoll":
		engine := uringd.EngineIOUring
		if *server == "uringd-netpoll" {
			engine = uringd.EngineNetpoll
		}
		serveUringd(*addr, *workers, engine)
	case "nethttp":
		mux := stdMux()
		mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(sleepFor)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, routes.HelloBody)
		})
		log.Fatal(http.ListenAndServe(*addr, mux))
	case "fasthttp":
		log.Fatal(fasthttp.ListenAndServe(*addr, func(ctx *fasthttp.RequestCtx) {
			switch string(ctx.Path()) {
			case "/sleep":
				time.Sleep(sleepFor)
				fallthrough
			case "/", "/std":
				ctx.SetContentType("text/plain")
				ctx.WriteString(routes.HelloBody)
			default:
				ctx.SetStatusCode(404)
			}
		}))
	default:
		log.Fatalf("unknown -server %q", *server)
	}
}

// stdMux is the net/http handler of /std (and / for nethttp).
func stdMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", hello)
	mux.HandleFunc("GET /std", hello)
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, routes.HelloBody)
}

// profileUntilSignal profiles the CPU until SIGTERM or SIGINT, then exits.
func profileUntilSignal(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
}

func serveUringd(addr string, workers int, engine uringd.Engine) {
	srv, err := uringd.New(uringd.Config{Addr: addr, Workers: workers, Engine: engine})
	if err != nil {
		log.Fatal(err)
	}
	srv.HandleFunc("GET /{$}", func(w *uringd.Response, r *uringd.Request) {
		w.SetContentType("text/plain")
		w.WriteString(routes.HelloBody)
	})
	srv.Handle("GET /sleep", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
		time.Sleep(sleepFor)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, routes.HelloBody)
	}))
	srv.Handle("GET /std", uringd.FromHTTP(stdMux()))
	log.Fatal(srv.ListenAndServe())
}

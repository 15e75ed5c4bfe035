package uringd_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/uringd/uringd"
)

// A blocking handler runs on the offload pool: it may wait (here: sleep,
// standing for a database call); its response goes back to the worker that
// owns the connection.
func ExampleBlocking() {
	srv, err := uringd.New(uringd.Config{Addr: "127.0.0.1:0", BlockingWorkers: 256})
	if err != nil {
		panic(err)
	}
	srv.Handle("GET /report/{name}", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
		select {
		case <-time.After(10 * time.Millisecond): // the slow part
		case <-ctx.Done(): // the client left
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "report %s for %s\n", r.PathValue("name"), r.Query)
	}))
	_ = srv // srv.ListenAndServe()
}

// Existing net/http code (a ServeMux with Go 1.22 patterns, FileServer, a
// router) is served through the same pool.
func ExampleFromHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s\n", r.PathValue("id"))
	})
	srv, err := uringd.New(uringd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	srv.HandleFunc("GET /healthz", func(w *uringd.Response, r *uringd.Request) {
		w.WriteString("ok") // plain: stays on the worker, no allocation
	})
	srv.Handle("/", uringd.FromHTTP(mux)) // everything else
	_ = srv
}

// A plain handler can offload only the requests that need it.
func ExampleOffload() {
	slow := uringd.BlockingHandlerFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
		w.Write([]byte("computed slowly\n"))
	})
	srv, _ := uringd.New(uringd.Config{Addr: "127.0.0.1:0"})
	srv.HandleFunc("GET /thing", func(w *uringd.Response, r *uringd.Request) {
		if string(r.Query) != "cached" && uringd.Offload(w, r, slow) {
			return // answered by the pool; do not touch w
		}
		w.WriteString("from cache\n")
	})
	_ = srv
}

// EngineAuto serves on io_uring where it can, else on Go's netpoller,
// logging why io_uring could not be used.
func ExampleEngine() {
	srv, _ := uringd.New(uringd.Config{Addr: "127.0.0.1:0", Engine: uringd.EngineAuto})
	_ = srv
}

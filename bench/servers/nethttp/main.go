// Command nethttp is the Go standard library peer: net/http with the routes
// every benchmarked server serves (see bench/internal/routes). Its worker count
// is GOMAXPROCS, set by the harness.
package main

import (
	"bytes"
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"

	"github.com/uringd/uringd/bench/internal/routes"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, routes.HelloBody)
	})
	mux.HandleFunc("GET /fibonacci", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		var buf [64]byte
		w.Write(routes.AppendFibonacciBody(buf[:0]))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// net/http/HTTP/1.x: writing the response may end reading the body, so
		// read it all first (into a pooled buffer, as a careful handler would).
		buf := bufPool.Get().(*bytes.Buffer)
		defer bufPool.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Write(buf.Bytes())
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}

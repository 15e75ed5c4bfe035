// Command nethttp is the Go standard library peer: net/http with the routes
// every benchmarked server serves (see bench/internal/routes). Its worker count
// is GOMAXPROCS, set by the harness.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/uringd/uringd/bench/internal/routes"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	echo := flag.String("echo", "buffer", "how POST /echo echoes: buffer (read the whole body, then write it with a Content-Length), "+
		"stream (io.Copy as it arrives, full duplex, the request's Content-Length) or copy (a bare io.Copy(w, r.Body): see naiveCopyEcho)")
	certFile := flag.String("tls-cert", "", "serve HTTPS (crypto/tls, ListenAndServeTLS) with this PEM certificate")
	keyFile := flag.String("tls-key", "", "the PEM key of -tls-cert")
	noTickets := flag.Bool("tls-no-tickets", false, "issue no session tickets: every handshake is a full one")
	files := flag.String("files", "", "also serve each regular file of this directory at /NAME (http.FileServer)")
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
	switch *echo {
	case "buffer":
		mux.HandleFunc("POST /echo", bufferedEcho)
	case "stream":
		mux.HandleFunc("POST /echo", streamedEcho)
	case "copy":
		mux.HandleFunc("POST /echo", naiveCopyEcho)
	default:
		log.Fatalf("-echo %q: want buffer, stream or copy", *echo)
	}
	if *files != "" {
		serveFiles(mux, *files)
	}
	if *certFile == "" {
		log.Fatal(http.ListenAndServe(*addr, mux))
	}
	srv := &http.Server{Addr: *addr, Handler: mux, TLSConfig: &tls.Config{SessionTicketsDisabled: *noTickets}}
	log.Fatal(srv.ListenAndServeTLS(*certFile, *keyFile))
}

// serveFiles mounts the directory's files one route each, so they sit beside
// GET / and the demo routes without a catch-all pattern.
func serveFiles(mux *http.ServeMux, dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	fs := http.FileServer(http.Dir(dir))
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "index.html" {
			mux.Handle("GET /"+e.Name(), fs)
		}
	}
}

// bufferedEcho reads the whole body first (into a pooled buffer, as a careful
// handler would: net/http/HTTP/1.x may end reading the body once the response
// is written), then writes it with a Content-Length: one copy of the body in
// user space on the way in, none on the way out.
func bufferedEcho(w http.ResponseWriter, r *http.Request) {
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
}

// streamedEcho echoes the body as it arrives, as cmd/uringd's /echo does:
// bounded memory per connection whatever the size, the request's
// Content-Length on the response. EnableFullDuplex is what lets net/http
// read the body after the response has started; without it see naiveCopyEcho.
func streamedEcho(w http.ResponseWriter, r *http.Request) {
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	io.Copy(w, r.Body)
}

// naiveCopyEcho is the bare io.Copy(w, r.Body) of a quick test server. It is
// not a correct echo in net/http/HTTP/1.x: once the response head goes out
// (chunked, after the first 512 bytes, which ReadFrom sniffs) with more than
// 256 KiB of the body unread, net/http marks the response "Connection:
// close", and with less it reads and drops the rest of the body first, so a
// body under 256 KiB comes back cut to 512 bytes (checked with curl: 1 MiB
// echoed whole with "Connection: close", 100 kB echoed as 512 bytes). It is
// here to explain a measurement (a wrk rerun with it paid a new connection
// per request), not to compare against.
func naiveCopyEcho(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.Copy(w, r.Body)
}

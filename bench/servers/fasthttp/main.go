// Command fasthttp is the github.com/valyala/fasthttp peer with the routes
// every benchmarked server serves (see bench/internal/routes). Its worker count
// is GOMAXPROCS, set by the harness.
package main

import (
	"crypto/tls"
	"flag"
	"log"

	"github.com/uringd/uringd/bench/internal/routes"
	"github.com/valyala/fasthttp"
)

// files serves -files's directory; nil without it.
var files fasthttp.RequestHandler

func handler(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain")
	switch path := string(ctx.Path()); {
	case path == "/" && ctx.IsGet():
		ctx.WriteString(routes.HelloBody)
	case path == "/fibonacci" && ctx.IsGet():
		var buf [64]byte
		ctx.Write(routes.AppendFibonacciBody(buf[:0]))
	case path == "/echo" && ctx.IsPost():
		ctx.Write(ctx.PostBody())
	case files != nil && ctx.IsGet():
		files(ctx)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
	}
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	certFile := flag.String("tls-cert", "", "serve HTTPS (crypto/tls, ListenAndServeTLS) with this PEM certificate")
	keyFile := flag.String("tls-key", "", "the PEM key of -tls-cert")
	noTickets := flag.Bool("tls-no-tickets", false, "issue no session tickets: every handshake is a full one")
	dir := flag.String("files", "", "also serve this directory's files at /NAME (fasthttp.FS)")
	flag.Parse()
	if *dir != "" {
		fs := &fasthttp.FS{Root: *dir}
		files = fs.NewRequestHandler()
	}
	s := &fasthttp.Server{
		Handler: handler,
		Name:    "fasthttp",
		// The upload scenario posts 1 MiB bodies; the default limit (4 MiB) already
		// allows them, stated here so a change of default cannot skew the scenario.
		MaxRequestBodySize: 4 << 20,
	}
	if *certFile == "" {
		log.Fatal(s.ListenAndServe(*addr))
	}
	s.TLSConfig = &tls.Config{SessionTicketsDisabled: *noTickets}
	log.Fatal(s.ListenAndServeTLS(*addr, *certFile, *keyFile))
}

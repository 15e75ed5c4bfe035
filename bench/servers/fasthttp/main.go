// Command fasthttp is the github.com/valyala/fasthttp peer with the routes
// every benchmarked server serves (see bench/internal/routes). Its worker count
// is GOMAXPROCS, set by the harness.
package main

import (
	"flag"
	"log"

	"github.com/uringd/uringd/bench/internal/routes"
	"github.com/valyala/fasthttp"
)

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
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
	}
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	s := &fasthttp.Server{
		Handler: handler,
		Name:    "fasthttp",
		// The upload scenario posts 1 MiB bodies; the default limit (4 MiB) already
		// allows them, stated here so a change of default cannot skew the scenario.
		MaxRequestBodySize: 4 << 20,
	}
	log.Fatal(s.ListenAndServe(*addr))
}

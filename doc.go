// Package uringd is an HTTP/1.1 server for Linux built on io_uring: one event loop
// per core, each owning a ring that batches accept, recv and send, a zero-copy
// request parser, and handlers that write into preallocated buffers. It builds
// only for Linux (see the README for the install steps and why).
//
// # Example
//
//	srv, err := uringd.New(uringd.Config{Addr: ":8080"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	// Plain: runs on the worker's event loop, allocates nothing, must not block.
//	srv.HandleFunc("GET /hello/{name}", func(w *uringd.Response, r *uringd.Request) {
//		w.SetContentType("text/plain")
//		w.WriteString("Hello, ")
//		w.Write(r.PathValue("name"))
//	})
//	// Blocking: runs on the offload pool, may wait on a database or a file.
//	srv.Handle("GET /user/{id}", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
//		fmt.Fprintf(w, "user %s\n", r.PathValue("id"))
//	}))
//	// net/http: an existing http.Handler, on the same pool, for every other path.
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
//		fmt.Fprintf(w, "item %s\n", r.PathValue("id"))
//	})
//	srv.Handle("/", uringd.FromHTTP(mux))
//
//	go func() {
//		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, uringd.ErrServerClosed) {
//			log.Fatal(err)
//		}
//	}()
//	stop := make(chan os.Signal, 1)
//	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
//	<-stop
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	srv.Shutdown(ctx) // stop accepting, finish in-flight requests, close
//
// # Three kinds of handler
//
// Every handler is registered with Server.Handle (or HandleFunc for a plain
// function) under a net/http.ServeMux pattern; the kind is chosen by an
// adapter, and the kinds mix freely on one server:
//
//   - A plain Handler (HandlerFunc) runs on its worker's thread. It must not
//     block, or every connection of that worker waits with it
//     (Config.SlowHandler logs one that held its worker too long). It gets a
//     *Request and a *Response that writes into the connection's output
//     buffer; nothing is allocated per request.
//   - Blocking(h) and BlockingFunc(f) wrap a BlockingHandler: it runs on a
//     bounded goroutine pool (Config.BlockingWorkers, Config.BlockingQueue; a
//     full queue answers 503), gets a context cancelled when the client goes
//     away, an owned copy of the request and a streaming ResponseWriter
//     (http.ResponseWriter and http.Flusher). Its response is sent by the
//     worker, in order with pipelined requests. A plain handler may also
//     decide per request with Offload. StreamingBody makes it read the body
//     as it arrives (Body).
//   - FromHTTP(h) serves an http.Handler (a ServeMux, http.FileServer, a
//     third-party router) on the same pool, with an *http.Request built from
//     the request; the body streams. An http.Handler passed to Handle
//     directly does not compile: wrap it in FromHTTP.
//
// A panicking handler of any kind is logged with its stack and answers 500
// for that request (a blocking one if it had sent nothing yet, and its
// connection is then closed); the server goes on.
//
// # Request and Response
//
// Request is an alias of http1.Request (`go doc
// github.com/uringd/uringd/http1.Request` shows its methods): a handler
// reads its fields (Method, Target, Path, Query, ProtoMinor, Headers, Host,
// ContentLength, Chunked, Close, Body) and calls Header(name),
// PathValue(name), PathValueNames() and IsHead(). Response is http1.Response
// with only the handler's methods (SetStatus, SetHeader, SetHeaderBytes,
// AddHeader, SetContentType, Write, WriteString, SetClose, WillClose); the
// engines frame the response around the handler's call. The server adds
// Date, Content-Length (or the chunked framing) and Connection.
//
// Every []byte of a Request is a view into the receive buffer, valid only
// during the handler call: copy what must outlive it with CopyBytes or
// CloneRequest. Config.DebugPoisonBuffers makes a kept view read as garbage
// in tests.
//
// # Two engines
//
// Config.Engine picks how bytes move; routing, parsing, the handlers and the
// response framing (package http1) are the same on both:
//
//   - EngineIOUring (the default): the io_uring event loops of package
//     worker, described below.
//   - EngineNetpoll: Go's net package, one goroutine per connection (package
//     internal/netpoll), for kernels, containers or sandboxes that refuse
//     io_uring. What both share (the handler interface, the limits, the
//     counters, the detach contract and the offload pool) is package
//     internal/engine.
//   - EngineAuto: io_uring, else netpoll, logging why.
//
// # How the io_uring engine runs
//
// Start opens one SO_REUSEPORT listener per worker (Config.Workers, default one
// per CPU the process may use) and runs each worker on its own OS thread,
// pinned to its CPU. A worker owns its io_uring, its connections, its buffers
// and its timer wheel, and takes no locks: each loop turn it handles every
// completion, answers every complete request, queues one send per connection
// with output, and makes one io_uring_enter. On Linux 6.0+ it uses multishot
// accept and recv with a ring-mapped buffer group; on older kernels (and when
// Config.DisableMultishot / DisableBufRing say so) single-shot operations and
// classic provided buffers. See package worker.
//
// # Routing
//
// Patterns are net/http.ServeMux's without a host ("GET /items/{id}",
// "/static/", "/files/{path...}", "/{$}"; see Server.Handle): the most
// specific pattern wins, conflicting registrations panic, r.PathValue gives a
// wildcard's value without allocating, a path with no pattern answers 404, a
// known path with another method 405 with Allow.
//
// # Limits
//
// Every limit is a Config field with a default: header bytes (431), URI (414),
// body (413), connections per worker (503), pending output per connection
// (reading pauses), and the header, body, idle and write timeouts. Bad input
// gets its status with "Connection: close" and the connection is closed after
// the response, lingering briefly so the client reads it.
package uringd

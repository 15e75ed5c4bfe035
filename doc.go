// Package uringd is an HTTP/1.1 server for Linux built on io_uring: one event loop
// per core, each owning a ring that batches accept, recv and send, a zero-copy
// request parser, and handlers that write into preallocated buffers.
//
// # Embedding
//
//	srv, err := uringd.New(uringd.Config{Addr: ":8080"})
//	if err != nil { ... }
//	srv.HandleFunc("GET /hello/{name}", func(w *uringd.Response, r *uringd.Request) {
//		w.SetContentType("text/plain")
//		w.WriteString("Hello, ")
//		w.Write(r.PathValue("name"))
//	})
//	srv.Handle("GET /report/{id}", uringd.Blocking(reports)) // may block: the offload pool
//	srv.Handle("/", uringd.FromHTTP(mux))                    // net/http code, every other path
//	go srv.ListenAndServe()
//	...
//	srv.Shutdown(ctx) // stop accepting, finish in-flight requests, close
//
// # How it runs
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
// # Handlers
//
// A Handler runs on its worker's thread: it must not block, or every
// connection of that worker waits with it (wrap work that blocks in Blocking,
// or net/http code in FromHTTP; Config.SlowHandler logs a plain handler that
// held its worker too long). It gets the request and a response that writes into the
// connection's output buffer; nothing is allocated per request. The request's
// fields are views into the receive buffer, valid only during the call: copy
// what must outlive it with CopyBytes or CloneRequest. Config.DebugPoisonBuffers
// makes a kept view read as garbage in tests. A panicking handler answers 500
// for that request, is logged with its stack, and the worker goes on.
//
// Routing uses net/http.ServeMux's patterns without a host ("GET /items/{id}",
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

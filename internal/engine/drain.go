package engine

import "time"

// FreshHold is how long after its accept a graceful shutdown keeps a
// connection that has sent nothing yet, on both engines (net/http's
// Server.Shutdown takes a new connection for idle after 5 seconds too). Its first request is most likely on
// its way: the client connected, the kernel completed the handshake and
// queued it, the server accepted it (perhaps in an accept that raced the
// shutdown), and the request's bytes are a write away. A client cannot
// retry a request on a connection that never carried one (only a reused
// one: RFC 9112 §9.3.1, Go's Transport), so closing it at once would fail
// that request; in a binary upgrade, where the new process already
// accepts, for nothing. It is answered with Connection: close instead; a
// connection still silent FreshHold after its accept is closed. Shorter
// holds failed requests when clients were slow between connect and write
// (500 ms did, at a load average of 18 on 2 CPUs).
const FreshHold = 5 * time.Second

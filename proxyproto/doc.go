// Package proxyproto reads the PROXY protocol header (HAProxy's
// doc/proxy-protocol.txt, versions 1 and 2) that a load balancer puts in
// front of the bytes it relays, so that uringd can see the real client's
// address instead of the load balancer's.
//
// The worker calls Parse on the first bytes of a connection accepted from an
// address that Allow contains (the -proxy-from list), before any HTTP parsing,
// and again with the grown buffer each time more bytes arrive. Parse keeps no
// state and never allocates; its contract is picohttpparser's:
//
//   - n > 0, err == nil: the header is buf[:n]; the HTTP request starts at
//     buf[n]. If h.HasAddrs(), h.Source and h.Dest replace the connection's
//     peer and local addresses (RemoteAddr, logs, handlers); otherwise (v1
//     UNKNOWN, v2 LOCAL such as a health check, or a family without IP
//     addresses) the connection's own addresses stand.
//   - ErrIncomplete: buf is a valid prefix of a header; read more. A header is
//     never longer than MaxHeaderLen bytes, so the caller never has to buffer
//     more than that before Parse decides.
//   - ErrNotProxy: buf does not start like a PROXY header. It is returned at
//     the first byte that differs from both signatures (usually the first
//     byte), so a peer that speaks HTTP straight away is refused at once.
//   - *Error: a PROXY header that breaks the spec; Reason says how. The
//     connection must be closed: the spec forbids guessing.
//
// Every decision depends only on the bytes seen so far, so feeding a header
// in pieces gives the same answer as feeding it whole, and a malformed header
// is refused at the first byte that cannot begin a valid one.
//
// Connections from addresses not in Allow must not be trusted with a header,
// and need no call to Parse: uringd's HTTP parser refuses a PROXY header of
// either version as a malformed request (400, then close), which
// TestHTTPParserRefusesHeaders checks.
//
// The package knows nothing of sockets or io_uring, so every rule is tested
// and fuzzed without a kernel, and against HAProxy itself.
package proxyproto

// Package uringd is an HTTP/1.1 server for Linux built on io_uring: one event loop
// per core, each owning a ring that batches accept, recv and send, a zero-copy
// request parser, and handlers that write into preallocated buffers.
package uringd

// Package tlsrecord lets an event loop serve TLS without blocking: the
// handshake runs in crypto/tls on a goroutine over an in-memory transport,
// and after it the loop protects TLS 1.3 records itself.
//
// It knows nothing of sockets or io_uring. A Handshake is fed the bytes the
// socket received and hands back the bytes to send; it wakes the loop through
// a callback when it has output or has finished, so the loop never waits on
// it. On success it reports the negotiated state and, for TLS 1.3 with one of
// the three RFC 8446 AEAD suites, the traffic secrets and record sequence
// numbers at a record boundary, from which NewConn builds the record layer.
// Anything else (TLS 1.2, an unknown suite) reports Record == false and the
// caller keeps serving through the crypto/tls Conn.
//
// A Conn is the record layer alone, as in crypto/tls: Open decrypts one
// record in place in the caller's receive buffer and returns a view of its
// application data; Seal encrypts into the caller's output buffer. Neither
// allocates per record. Any failure is sticky: the Conn then seals nothing
// but the one alert that reports it, so no plaintext follows an error.
package tlsrecord

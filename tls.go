package uringd

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"

	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/internal/ktls"
	"github.com/uringd/uringd/tlsrecord"
)

// HTTPS.
//
// Config.TLS turns the listener into an HTTPS one. Handlers learn of it
// through the connection's tls.ConnectionState (version, cipher suite,
// ServerName from SNI, NegotiatedProtocol from ALPN, PeerCertificates,
// DidResume): w.TLS() for a plain handler, TLS(ctx) for a blocking one,
// r.TLS for a net/http handler (FromHTTP), nil over cleartext each time.
// The state is the server's: read it, do not modify it.

// alpnServed are the ALPN protocols the server speaks over TLS. The
// HTTP/2 work adds "h2" here (and a dispatch on NegotiatedProtocol).
var alpnServed = []string{"http/1.1"}

// validateTLS checks Config.TLS: it must be able to present a
// certificate, and offer only protocols the server speaks.
func validateTLS(c *tls.Config) error {
	if c == nil {
		return nil
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return errors.New("uringd: Config.TLS has no certificate: set Certificates, GetCertificate or GetConfigForClient")
	}
	for _, p := range c.NextProtos {
		if !slices.Contains(alpnServed, p) {
			return errors.New("uringd: Config.TLS.NextProtos offers " + p + ": the server speaks only http/1.1 over TLS")
		}
	}
	return nil
}

// setupTLS prepares the server's clones of Config.TLS: the netpoll
// engine's (crypto/tls over each connection) and the io_uring engine's
// acceptor, whose handshakes run off the event loops and which is shared by
// all workers, so a session ticket one issued resumes on any other.
func (s *Server) setupTLS() {
	if s.cfg.TLS == nil {
		return
	}
	c := s.cfg.TLS.Clone()
	if len(c.NextProtos) == 0 {
		c.NextProtos = slices.Clone(alpnServed)
	}
	s.tls = c
	s.tlsAcceptor = tlsrecord.NewAcceptor(c, s.cfg.HandshakeTimeout)
}

// TLSRecordPath describes how the engine protects records, for the
// startup line; "" without TLS.
func (s *Server) TLSRecordPath() string {
	switch {
	case s.cfg.TLS == nil:
		return ""
	case s.Engine() == EngineNetpoll:
		return "crypto/tls on each connection's goroutine (TLS 1.2 and 1.3)"
	}
	if s.kernelTLS() {
		return "handshake in crypto/tls off the loop; TLS 1.3 records by kernel TLS (kTLS) after it, userland record layer on the loop for suites the kernel lacks; TLS 1.2 on goroutines"
	}
	why := "disabled"
	if !s.cfg.DisableKTLS {
		why = "unavailable: " + ktls.Available().Why
	}
	return "handshake in crypto/tls off the loop; userland TLS 1.3 record layer on the loop (kTLS " + why + "); TLS 1.2 on goroutines"
}

// kernelTLS: the io_uring engine hands TLS 1.3 connections to kernel TLS.
func (s *Server) kernelTLS() bool {
	return s.cfg.TLS != nil && !s.cfg.DisableKTLS && len(ktls.Available().Suites) > 0
}

// TLS is the TLS state of the connection whose request w answers (nil over
// cleartext), valid during the handler's call. Do not modify it.
func (w *Response) TLS() *tls.ConnectionState { return engine.TLSState(w.h1()) }

type tlsKey struct{}

// TLS returns the TLS state of a blocking handler's connection from its
// ctx (nil over cleartext). Do not modify it.
func TLS(ctx context.Context) *tls.ConnectionState {
	st, _ := ctx.Value(tlsKey{}).(*tls.ConnectionState)
	return st
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uringd/uringd"
)

// HTTPS: -tls-cert FILE -tls-key FILE (repeatable: one pair per
// certificate; the client's SNI name picks among them), SIGHUP reloads the
// files, -redirect-http ADDR answers cleartext HTTP with a 308 to https.

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// tlsFlags are the TLS flags as parsed.
type tlsFlags struct {
	certs, keys listFlag
	redirect    *string
	noTickets   *bool
}

func defineTLSFlags(fs *flag.FlagSet) *tlsFlags {
	f := &tlsFlags{}
	fs.Var(&f.certs, "tls-cert", "serve HTTPS with this PEM certificate chain (repeatable, paired in order with -tls-key; SNI picks among them; SIGHUP reloads)")
	fs.Var(&f.keys, "tls-key", "the PEM private key of the -tls-cert of the same position")
	f.redirect = fs.String("redirect-http", "", "with -tls-cert, also listen on this address for cleartext HTTP, answered with a 308 redirect to https")
	f.noTickets = fs.Bool("tls-no-tickets", false, "issue no session tickets, so every handshake is a full one (as nginx's ssl_session_tickets off; bench/'s handshake scenario uses it)")
	return f
}

// check validates the flags' combination.
func (f *tlsFlags) check() error {
	switch {
	case len(f.certs) != len(f.keys):
		return fmt.Errorf("-tls-cert and -tls-key come in pairs: %d certificates, %d keys", len(f.certs), len(f.keys))
	case *f.redirect != "" && len(f.certs) == 0:
		return errors.New("-redirect-http goes with -tls-cert and -tls-key")
	}
	return nil
}

// certStore holds the certificates the server presents; GetCertificate
// reads them through an atomic pointer, so a reload swaps them under live
// handshakes without dropping a connection.
type certStore struct {
	certFiles, keyFiles []string
	cur                 atomic.Pointer[[]tls.Certificate]
}

// load reads every pair; on any error the certificates in use stay.
func (s *certStore) load() error {
	certs := make([]tls.Certificate, 0, len(s.certFiles))
	for i := range s.certFiles {
		c, err := tls.LoadX509KeyPair(s.certFiles[i], s.keyFiles[i])
		if err != nil {
			return fmt.Errorf("%s with %s: %w", s.certFiles[i], s.keyFiles[i], err)
		}
		certs = append(certs, c)
	}
	s.cur.Store(&certs)
	return nil
}

// getCertificate picks the first certificate valid for the client's SNI
// name and signature algorithms, else the first one.
func (s *certStore) getCertificate(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
	certs := *s.cur.Load()
	for i := range certs {
		if hi.SupportsCertificate(&certs[i]) == nil {
			return &certs[i], nil
		}
	}
	return &certs[0], nil
}

// tlsConfig loads the certificates and returns the server's tls.Config;
// nil without -tls-cert.
func (f *tlsFlags) tlsConfig() (*tls.Config, *certStore, error) {
	if len(f.certs) == 0 {
		return nil, nil, nil
	}
	s := &certStore{certFiles: f.certs, keyFiles: f.keys}
	if err := s.load(); err != nil {
		return nil, nil, err
	}
	return &tls.Config{GetCertificate: s.getCertificate, SessionTicketsDisabled: *f.noTickets}, s, nil
}

// reloadOnSIGHUP reloads the certificate files on SIGHUP; a file that does
// not load keeps the old certificates, and the log says why.
func reloadOnSIGHUP(log *slog.Logger, s *certStore) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := s.load(); err != nil {
				log.Error("TLS certificates not reloaded; serving the previous ones", "err", err.Error())
				continue
			}
			log.Info("TLS certificates reloaded", "certificates", len(s.certFiles))
		}
	}()
}

// redirector is the cleartext listener of -redirect-http.
type redirector struct {
	ln  net.Listener
	srv *http.Server
}

func listenRedirect(addr string) (*redirector, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &redirector{ln: ln}, nil
}

// serve answers every request with a 308 to the same host and target over
// https on the server's port.
func (r *redirector) serve(log *slog.Logger, srv *uringd.Server) {
	if r == nil {
		return
	}
	_, tlsPort, _ := net.SplitHostPort(srv.Addr().String())
	r.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			host := req.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if host == "" {
				http.Error(w, "400 Bad Request: no Host", http.StatusBadRequest)
				return
			}
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			if tlsPort != "443" {
				host += ":" + tlsPort
			}
			http.Redirect(w, req, "https://"+host+req.URL.RequestURI(), http.StatusPermanentRedirect)
		}),
	}
	log.Info("redirecting cleartext HTTP to https", "addr", r.ln.Addr().String())
	go r.srv.Serve(r.ln)
}

func (r *redirector) stop() {
	if r == nil {
		return
	}
	if r.srv == nil {
		r.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
}

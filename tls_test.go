package uringd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// TestTLSHello: a net/http client over TLS 1.3 gets answers on one
// keep-alive connection; the handler sees the connection's TLS state.
func TestTLSHello(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.HandleFunc("GET /tls", func(w *uringd.Response, r *uringd.Request) {
				st := w.TLS()
				if st == nil {
					w.WriteString("cleartext")
					return
				}
				w.WriteString(tls.VersionName(st.Version) + " " + st.ServerName + " " + st.NegotiatedProtocol)
			})
		})
		c := httpsClient(t, nil)
		base := "https://127.0.0.1:" + port(s)
		for i := 0; i < 5; i++ {
			resp, err := c.Get(base + "/")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, "Hello, World!", string(body))
			require.NotNil(t, resp.TLS)
			assert.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)
			assert.Equal(t, "http/1.1", resp.TLS.NegotiatedProtocol)
		}
		resp, err := c.Get(base + "/tls")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "TLS 1.3 localhost http/1.1", string(body))
		assert.Equal(t, uint64(1), s.Stats().Total.Accepted, "one keep-alive connection")
		_ = http.StatusOK
	})
}

// tlsRaw wraps a TLS connection for byte-exact HTTP.
func tlsRaw(t *testing.T, c *tls.Conn) *rawConn {
	return &rawConn{t: t, Conn: c, br: bufio.NewReader(c)}
}

// TestTLSPipelined: 50 requests in one write, answered in order over one
// TLS connection; then a request split into one-byte writes (a TLS record
// per byte: every request spans records).
func TestTLSPipelined(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		c := dialTLS(t, s, nil)
		var req strings.Builder
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&req, "GET /files/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		}
		_, err := io.WriteString(c, req.String())
		require.NoError(t, err)
		rc := tlsRaw(t, c)
		for i := 0; i < 50; i++ {
			resp, body := rc.response("GET")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, fmt.Sprintf("file:/files/%d", i), body)
		}
		for _, b := range []byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") {
			_, err := c.Write([]byte{b})
			require.NoError(t, err)
		}
		resp, body := rc.response("POST")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "hello", body)
	})
}

// TestTLSBodies: a chunked POST, a body of many records (1 MiB, bigger than
// a receive buffer and than a record), a 64 KiB response (four records).
func TestTLSBodies(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		c := httpsClient(t, nil)
		base := "https://127.0.0.1:" + port(s)
		body := strings.Repeat("uringd over TLS ", 1<<16) // 1 MiB
		req, err := http.NewRequest("POST", base+"/echo", io.NopCloser(strings.NewReader(body)))
		require.NoError(t, err)
		req.ContentLength = -1 // chunked
		resp, err := c.Do(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, len(body), len(got))
		require.True(t, string(got) == body, "echoed body differs")
		for i := 0; i < 3; i++ {
			code, b, _ := get(t, c, base+"/big")
			require.Equal(t, 200, code)
			require.Equal(t, string(bigBody), b)
		}
	})
}

// TestTLSBlockingAndNetHTTP: a blocking handler sees TLS(ctx); a net/http
// handler (FromHTTP) sees r.TLS and an https URL, and streams a body
// back (its bytes pass through the connection's output: encrypted).
func TestTLSBlockingAndNetHTTP(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.Handle("GET /blocking", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
				st := uringd.TLS(ctx)
				if st == nil {
					io.WriteString(w, "cleartext")
					return
				}
				io.WriteString(w, "blocking "+tls.VersionName(st.Version)+" "+st.ServerName)
			}))
			mux := http.NewServeMux()
			mux.HandleFunc("POST /nh/echo", func(w http.ResponseWriter, r *http.Request) {
				if r.TLS == nil || r.URL.Scheme != "https" {
					http.Error(w, "no TLS", 500)
					return
				}
				io.Copy(w, r.Body)
			})
			mux.HandleFunc("GET /nh/info", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s %s %v", tls.VersionName(r.TLS.Version), r.URL.String(), r.TLS.HandshakeComplete)
			})
			s.Handle("/nh/", uringd.FromHTTP(mux))
		})
		c := httpsClient(t, nil)
		base := "https://127.0.0.1:" + port(s)
		code, b, _ := get(t, c, base+"/blocking")
		assert.Equal(t, 200, code)
		assert.Equal(t, "blocking TLS 1.3 localhost", b)
		code, b, _ = get(t, c, base+"/nh/info?x=1")
		assert.Equal(t, 200, code)
		assert.Equal(t, "TLS 1.3 https://127.0.0.1:"+port(s)+"/nh/info?x=1 true", b)
		// A streamed echo: the client writes while it reads.
		pr, pw := io.Pipe()
		req, err := http.NewRequest("POST", base+"/nh/echo", pr)
		require.NoError(t, err)
		go func() {
			for i := 0; i < 256; i++ {
				if _, err := pw.Write(bigBody[:4096]); err != nil {
					return
				}
			}
			pw.Close()
		}()
		resp, err := c.Do(req)
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, int64(256*4096), n)
		assert.Equal(t, 200, resp.StatusCode)
	})
}

// TestTLSResumption: a second connection resumes the first one's session
// with its ticket, on whichever worker it lands.
func TestTLSResumption(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		cc := tlsClientConfig()
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		for i := 0; i < 4; i++ {
			c := dialTLS(t, s, cc)
			rc := tlsRaw(t, c)
			rc.send(helloReq)
			resp, body := rc.response("GET")
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, "Hello, World!", body)
			assert.Equal(t, i > 0, c.ConnectionState().DidResume, "connection %d", i)
			c.Close()
		}
	})
}

// TestTLSSNI: two certificates; the client gets the one for the name it
// asks for (and the first for an unknown name).
func TestTLSSNI(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		a, b := theCA().leaf(t, "a.example"), theCA().leaf(t, "b.example")
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{a, b}}
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.HandleFunc("GET /sni", func(w *uringd.Response, r *uringd.Request) {
				w.WriteString(w.TLS().ServerName)
			})
		})
		for _, name := range []string{"a.example", "b.example"} {
			cc := tlsClientConfig()
			cc.ServerName = name
			c := dialTLS(t, s, cc)
			assert.Equal(t, name, c.ConnectionState().PeerCertificates[0].DNSNames[0])
			rc := tlsRaw(t, c)
			rc.send("GET /sni HTTP/1.1\r\nHost: " + name + "\r\n\r\n")
			_, body := rc.response("GET")
			assert.Equal(t, name, body)
		}
	})
}

// TestTLS12: a TLS 1.2 client is served on both engines (on io_uring by
// crypto/tls on a goroutine over the worker's transport): keep-alive,
// pipelining, bodies both ways, blocking and net/http handlers, resumption,
// and a close after Connection: close.
func TestTLS12(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.Handle("GET /blocking", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
				io.WriteString(w, "blocking "+tls.VersionName(uringd.TLS(ctx).Version))
			}))
			s.HandleFunc("GET /plain", func(w *uringd.Response, r *uringd.Request) {
				w.WriteString("plain " + tls.VersionName(w.TLS().Version))
			})
		})
		cc := tlsClientConfig()
		cc.MaxVersion = tls.VersionTLS12
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		c := dialTLS(t, s, cc)
		require.Equal(t, uint16(tls.VersionTLS12), c.ConnectionState().Version)
		rc := tlsRaw(t, c)
		var req strings.Builder
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&req, "GET /files/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		}
		rc.send(req.String())
		for i := 0; i < 20; i++ {
			_, body := rc.response("GET")
			require.Equal(t, fmt.Sprintf("file:/files/%d", i), body)
		}
		rc.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /blocking HTTP/1.1\r\nHost: x\r\n\r\n")
		_, body := rc.response("GET")
		assert.Equal(t, "plain TLS 1.2", body)
		_, body = rc.response("GET")
		assert.Equal(t, "blocking TLS 1.2", body)
		rc.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		_, body = rc.response("GET")
		assert.Equal(t, "Hello, World!", body)
		rc.expectClosed()

		hc := httpsClient(t, cc)
		base := "https://127.0.0.1:" + port(s)
		big := strings.Repeat("TLS 1.2 body ", 1<<16)
		resp, err := hc.Post(base+"/echo", "text/plain", strings.NewReader(big))
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.True(t, string(got) == big, "echo over TLS 1.2")
		require.Equal(t, uint16(tls.VersionTLS12), resp.TLS.Version)
		assert.True(t, resp.TLS.DidResume, "the second TLS 1.2 connection resumes")
		code, b, _ := get(t, hc, base+"/big")
		assert.Equal(t, 200, code)
		assert.Equal(t, string(bigBody), b)

		// TLS 1.3 meanwhile, with the suite the client prefers (crypto/tls
		// picks it by hardware; tlsrecord's tests cover all three).
		c13 := dialTLS(t, s, nil)
		assert.Contains(t, []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256},
			c13.ConnectionState().CipherSuite)
	})
}

// TestTLSKeyUpdate: the client rekeys and asks the server to; the server
// reads the next request under the client's new key and sends its own
// KeyUpdate before its answer.
func TestTLSKeyUpdate(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DisableKTLS = true // the userland record layer rekeys; kernel TLS on 6.1 cannot (TestKTLSKeyUpdate)
		cfg.TLS = tlsServerConfig(t)
		cfg.TLS.SessionTicketsDisabled = true // no record after the handshake (newTLSClient)
		s := startTLSServer(t, cfg, nil)
		c := newTLSClient(t, s, helloReq, "Hello, World!")
		c.roundTrip(t)
		require.Zero(t, c.empty)
		ku, err := c.rec.AppendKeyUpdate(nil, true)
		require.NoError(t, err)
		_, err = c.nc.Write(ku)
		require.NoError(t, err)
		for i := 0; i < 3; i++ {
			c.roundTrip(t)
		}
		assert.Equal(t, 1, c.empty, "the server's KeyUpdate")
	})
}

// TestTLSClientCertificates: with client certificates required, a client
// without one is refused and one with a certificate of the CA is served;
// handlers of every kind see its certificate.
func TestTLSClientCertificates(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.TLS = tlsServerConfig(t)
		cfg.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.TLS.ClientCAs = theCA().pool
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.HandleFunc("GET /who", func(w *uringd.Response, r *uringd.Request) {
				w.WriteString(w.TLS().PeerCertificates[0].Subject.CommonName)
			})
			s.Handle("GET /who-blocking", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
				io.WriteString(w, uringd.TLS(ctx).PeerCertificates[0].Subject.CommonName)
			}))
		})
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			anon := tlsClientConfig()
			anon.MaxVersion = v
			c, err := tls.Dial("tcp", s.Addr().String(), anon)
			if err == nil { // TLS 1.3: the client learns of the refusal at its first read
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, helloReq)
				_, err = c.Read(make([]byte, 1))
				c.Close()
			}
			require.Error(t, err, "%s without a client certificate", tls.VersionName(v))

			cc := tlsClientConfig()
			cc.MaxVersion = v
			cc.Certificates = []tls.Certificate{theCA().clientLeaf(t, "alice")}
			rc := tlsRaw(t, dialTLS(t, s, cc))
			rc.send("GET /who HTTP/1.1\r\nHost: x\r\n\r\nGET /who-blocking HTTP/1.1\r\nHost: x\r\n\r\n")
			_, body := rc.response("GET")
			assert.Equal(t, "alice", body, tls.VersionName(v))
			_, body = rc.response("GET")
			assert.Equal(t, "alice", body, tls.VersionName(v))
		}
	})
}

// TestTLSConfigValidated: a TLS config that cannot present a certificate,
// or offers a protocol the server does not speak, is refused by New; the
// caller's config is not modified.
func TestTLSConfigValidated(t *testing.T) {
	_, err := uringd.New(uringd.Config{TLS: &tls.Config{}})
	require.ErrorContains(t, err, "Config.TLS has no certificate")
	_, err = uringd.New(uringd.Config{TLS: &tls.Config{Certificates: tlsServerConfig(t).Certificates, NextProtos: []string{"h2", "http/1.1"}}})
	require.ErrorContains(t, err, "NextProtos offers h2")
	user := tlsServerConfig(t)
	_, err = uringd.New(uringd.Config{TLS: user})
	require.NoError(t, err)
	assert.Empty(t, user.NextProtos, "the server works on a clone")
}

// TestTLSALPN: the server offers http/1.1; a client that offers only h2
// is refused (no_application_protocol), one that offers h2 and http/1.1
// gets http/1.1, and one without ALPN is served.
func TestTLSALPN(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startTLSServer(t, cfg, nil)
		h2 := tlsClientConfig()
		h2.NextProtos = []string{"h2"}
		c, err := tls.Dial("tcp", s.Addr().String(), h2)
		if err == nil { // TLS 1.3: the refusal may come at the first read
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, helloReq)
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no application protocol")
		both := tlsClientConfig()
		both.NextProtos = []string{"h2", "http/1.1"}
		assert.Equal(t, "http/1.1", dialTLS(t, s, both).ConnectionState().NegotiatedProtocol)
		none := tlsClientConfig()
		none.NextProtos = nil
		rc := tlsRaw(t, dialTLS(t, s, none))
		rc.send(helloReq)
		_, body := rc.response("GET")
		assert.Equal(t, "Hello, World!", body)
	})
}

// TestTLSBigStreamedResponse: 8 MiB written by a blocking handler to a
// client that reads in small pieces arrive intact over TLS 1.3 and 1.2
// (the producer is held back by MaxPendingOutput, sealed or not).
func TestTLSBigStreamedResponse(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		chunk := []byte(strings.Repeat("0123456789abcdef", 4096))
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.Handle("GET /stream", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
				for i := 0; i < 128; i++ {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
		})
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			cc := tlsClientConfig()
			cc.MaxVersion = v
			rc := tlsRaw(t, dialTLS(t, s, cc))
			rc.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(rc.br, nil)
			require.NoError(t, err)
			buf := make([]byte, 1000)
			var n int
			for {
				k, err := resp.Body.Read(buf)
				for j, b := range buf[:k] {
					if b != chunk[(n+j)%16] {
						require.Failf(t, "corrupt body", "%s: byte %d is %q", tls.VersionName(v), n+j, b)
					}
				}
				n += k
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
			}
			assert.Equal(t, 128*len(chunk), n, tls.VersionName(v))
			rc.send(helloReq) // the connection goes on
			_, body := rc.response("GET")
			assert.Equal(t, "Hello, World!", body)
		}
	})
}

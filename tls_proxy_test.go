package uringd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/proxyproto"
)

// prefixWriter sends pre in front of the first write: the PROXY header in
// the same segment as the ClientHello, as a load balancer may send them.
type prefixWriter struct {
	net.Conn
	pre []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if p.pre != nil {
		_, err := p.Conn.Write(append(p.pre, b...))
		p.pre = nil
		return len(b), err
	}
	return p.Conn.Write(b)
}

// HTTPS behind a load balancer that speaks the PROXY protocol: the header
// comes before the TLS handshake, alone, in pieces or in the ClientHello's
// segment, and the handler sees the client it names.
func TestTLSBehindProxyProtocol(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		allow, err := proxyproto.ParseAllow("127.0.0.0/8")
		require.NoError(t, err)
		cfg.ProxyProtocolFrom = allow
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.Handle("GET /who", uringd.BlockingFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {
				io.WriteString(w, uringd.RemoteAddr(ctx))
			}))
		})
		hdr := proxyproto.AppendV1(nil, proxyproto.Header{
			Source: netip.MustParseAddrPort("203.0.113.9:4242"), Dest: netip.MustParseAddrPort("192.0.2.1:443")})
		for _, how := range []string{"alone", "in-pieces", "with-client-hello"} {
			raw, err := net.Dial("tcp", s.Addr().String())
			require.NoError(t, err)
			raw.SetDeadline(time.Now().Add(20 * time.Second))
			var c net.Conn = raw
			switch how {
			case "alone":
				_, err = raw.Write(hdr)
			case "in-pieces":
				_, err = raw.Write(hdr[:7])
				time.Sleep(20 * time.Millisecond)
				_, err = raw.Write(hdr[7:])
			case "with-client-hello":
				c = &prefixWriter{Conn: raw, pre: append([]byte(nil), hdr...)}
			}
			require.NoError(t, err)
			tc := tls.Client(c, tlsClientConfig())
			_, err = io.WriteString(tc, "GET /who HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err, how)
			resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
			require.NoError(t, err, how)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "203.0.113.9:4242", string(body), how)
			tc.Close()
		}
	})
}

// A file answered with http.ServeContent over TLS goes through the record
// layer (sendfile would put raw file bytes on the connection): the client
// reads it whole, decrypted.
func TestTLSFileResponse(t *testing.T) {
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 13)
	}
	path := t.TempDir() + "/f.bin"
	require.NoError(t, os.WriteFile(path, data, 0o644))
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DisableKTLS = true // the userland record path refuses sendfile; under kernel TLS it is used (TestKTLSStaticSendfile)
		s := startTLSServer(t, cfg, func(s *uringd.Server) {
			s.Handle("GET /file", uringd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f, err := os.Open(path)
				if err != nil {
					panic(err)
				}
				defer f.Close()
				http.ServeContent(w, r, "f.bin", time.Time{}, f)
			})))
		})
		resp, err := httpsClient(t, nil).Get("https://localhost:" + port(s) + "/file")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, body), "the file, decrypted")
		assert.Zero(t, s.Stats().Total.FileBytesOut, "no sendfile on TLS")
	})
}

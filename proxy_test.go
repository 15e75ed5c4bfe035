package uringd

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/proxyproto"
)

func proxyRoutes(s *Server) {
	s.Handle("GET /who", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
		io.WriteString(w, RemoteAddr(ctx))
	}))
	s.Handle("GET /std", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	})))
	s.HandleFunc("GET /{$}", func(w *Response, r *Request) { w.WriteString("plain") })
}

// Behind a load balancer: a connection from a -proxy-from address begins
// with a PROXY header, whole or in pieces, v1 or v2, and every handler kind
// and the access log see the client it names; without a valid header the
// connection is closed unanswered.
func TestProxyProtocolGivesTheRealClient(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		allow, err := proxyproto.ParseAllow("127.0.0.0/8")
		require.NoError(t, err)
		var mu sync.Mutex
		var out bytes.Buffer
		l := accesslog.New(lockedWriter{&mu, &out}, accesslog.Combined, nil)
		s := startEngine(t, m, Config{ProxyProtocolFrom: allow, AccessLog: l}, proxyRoutes)
		v1 := proxyproto.AppendV1(nil, proxyproto.Header{
			Source: netip.MustParseAddrPort("203.0.113.9:4242"), Dest: netip.MustParseAddrPort("192.0.2.1:80")})
		v2 := proxyproto.AppendV2(nil, proxyproto.Header{Command: proxyproto.CommandProxy,
			Source: netip.MustParseAddrPort("[2001:db8::7]:5151"), Dest: netip.MustParseAddrPort("[2001:db8::1]:443")}, nil)
		for _, c := range []struct {
			name, want string
			head       []byte
			split      bool
		}{
			{"v1", "203.0.113.9:4242", v1, false},
			{"v1-in-pieces", "203.0.113.9:4242", v1, true},
			{"v2", "[2001:db8::7]:5151", v2, false},
			{"v2-in-pieces", "[2001:db8::7]:5151", v2, true},
		} {
			rc := dialRaw(t, s)
			req := "GET /who HTTP/1.1\r\nHost: x\r\n\r\nGET /std HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
			if c.split { // the header in three writes, the last with the requests
				third := len(c.head) / 3
				for _, p := range [][]byte{c.head[:third], c.head[third : 2*third]} {
					_, err := rc.Write(p)
					require.NoError(t, err)
					time.Sleep(20 * time.Millisecond) // separate receives
				}
				_, err = rc.Write(append(append([]byte{}, c.head[2*third:]...), req...))
			} else {
				_, err = rc.Write(append(append([]byte{}, c.head...), req...))
			}
			require.NoError(t, err)
			_, body := rc.read(t, "GET")
			assert.Equal(t, c.want, body, c.name+": blocking RemoteAddr")
			_, body = rc.read(t, "GET")
			assert.Equal(t, c.want, body, c.name+": net/http r.RemoteAddr")
			_, body = rc.read(t, "GET")
			assert.Equal(t, "plain", body, c.name)
		}
		// No header, or a broken one, from a listed address: closed, no answer.
		for _, first := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n"} {
			rc := dialRaw(t, s)
			_, err := io.WriteString(rc, first)
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			assert.Empty(t, b, "no answer to %q", first)
			assert.NoError(t, err, "closed, not reset")
		}
		require.Eventually(t, func() bool { return s.Stats().Total.ProxyRefused == 2 }, 5*time.Second, 5*time.Millisecond)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
		require.NoError(t, l.Close())
		mu.Lock()
		log := out.String()
		mu.Unlock()
		assert.Equal(t, 6, strings.Count(log, "203.0.113.9 - - ["), log)
		assert.Equal(t, 6, strings.Count(log, "2001:db8::7 - - ["), log)
	})
}

// From an address not in the list a PROXY header is not trusted: it is a
// bad request, and ordinary requests are served as before.
func TestProxyProtocolOnlyFromListedAddresses(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		allow, err := proxyproto.ParseAllow("10.0.0.0/8")
		require.NoError(t, err)
		s := startEngine(t, m, Config{ProxyProtocolFrom: allow}, proxyRoutes)
		rc := dialRaw(t, s)
		_, err = io.WriteString(rc, "GET /who HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		_, body := rc.read(t, "GET")
		assert.True(t, strings.HasPrefix(body, "127.0.0.1:"), body)
		rc = dialRaw(t, s)
		_, err = rc.Write(append(proxyproto.AppendV1(nil, proxyproto.Header{
			Source: netip.MustParseAddrPort("203.0.113.9:1"), Dest: netip.MustParseAddrPort("192.0.2.1:80")}),
			"GET /who HTTP/1.1\r\nHost: x\r\n\r\n"...))
		require.NoError(t, err)
		resp, _ := rc.read(t, "GET")
		assert.Equal(t, 400, resp.StatusCode)
		assert.Zero(t, s.Stats().Total.ProxyRefused)
	})
}

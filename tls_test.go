package uringd_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"

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

package uringd

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MaxStreamBody bounds streamed bodies, MaxBody those held whole: a
// net/http handler takes a body over MaxBody (within MaxStreamBody), a
// plain handler is refused it (413, and no "100 Continue" first), and a
// body over MaxStreamBody is refused to both.
func TestMaxStreamBodyApartFromMaxBody(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		cfg := m.Cfg
		cfg.MaxBody = 1000
		cfg.MaxStreamBody = 1 << 20
		s := startEngine(t, m, cfg, func(s *Server) {
			s.Handle("/up", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := io.Copy(io.Discard, r.Body)
				fmt.Fprintf(w, "%d %v", n, err)
			})))
			s.HandleFunc("POST /plain", func(w *Response, r *Request) { fmt.Fprintf(w, "%d", len(r.Body)) })
		})
		for _, chunked := range []bool{false, true} {
			body := []byte(strings.Repeat("s", 100000))
			head, wire := frame("/up", body, chunked)
			c := dialRaw(t, s)
			_, err := c.Write(append([]byte(head), wire...))
			require.NoError(t, err)
			resp, got := c.read(t, "POST")
			assert.Equal(t, 200, resp.StatusCode, "streamed, chunked=%v", chunked)
			assert.Equal(t, "100000 <nil>", got)

			head, wire = frame("/plain", body[:5000], chunked)
			c = dialRaw(t, s)
			_, err = c.Write(append([]byte(head), wire...))
			require.NoError(t, err)
			resp, _ = c.read(t, "POST")
			assert.Equal(t, 413, resp.StatusCode, "whole, chunked=%v", chunked)
		}

		c := dialRaw(t, s)
		_, err := io.WriteString(c, "POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
		require.NoError(t, err)
		resp, _ := c.read(t, "POST")
		assert.Equal(t, 413, resp.StatusCode, "refused before a 100 Continue")

		for _, path := range []string{"/up", "/plain"} {
			c := dialRaw(t, s)
			_, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
			require.NoError(t, err)
			resp, _ := c.read(t, "POST")
			assert.Equal(t, 413, resp.StatusCode, path)
		}
	})
}

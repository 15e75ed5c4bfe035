package uringd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every handler kind gets its pattern's path values over a real connection,
// on every engine and mode: plain and blocking handlers with PathValue, a
// net/http handler with http.Request.PathValue; the mux's 404, 405 and
// redirect come from the same router.
func TestPatternsEndToEnd(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, m.Cfg, func(s *Server) {
			s.HandleFunc("GET /plain/{id}/{rest...}", func(w *Response, r *Request) {
				fmt.Fprintf(w, "plain %s %s", r.PathValue("id"), r.PathValue("rest"))
			})
			s.Handle("POST /blocking/{id}", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				fmt.Fprintf(w, "blocking %s %s", r.PathValue("id"), r.Body)
			}))
			s.Handle("/std/{name}", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "std %s %s", r.Method, r.PathValue("name"))
			})))
			s.HandleFunc("GET /dir/", func(w *Response, r *Request) { w.WriteString("dir") })
		})
		base := "http://" + s.Addr().String()
		get := func(method, path, body string) (int, string, http.Header) {
			req, err := http.NewRequest(method, base+path, strings.NewReader(body))
			require.NoError(t, err)
			resp, err := noRedirect.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, string(b), resp.Header
		}
		code, body, _ := get("GET", "/plain/42/a/b", "")
		assert.Equal(t, 200, code)
		assert.Equal(t, "plain 42 a/b", body)
		code, body, _ = get("POST", "/blocking/7", "payload")
		assert.Equal(t, 200, code)
		assert.Equal(t, "blocking 7 payload", body)
		code, body, _ = get("DELETE", "/std/gopher", "")
		assert.Equal(t, 200, code)
		assert.Equal(t, "std DELETE gopher", body)
		code, _, h := get("PUT", "/plain/1/x", "")
		assert.Equal(t, 405, code)
		assert.Equal(t, "GET, HEAD", h.Get("Allow"))
		code, _, h = get("GET", "/dir?x=1", "")
		assert.Equal(t, 307, code)
		assert.Equal(t, "/dir/?x=1", h.Get("Location"))
		code, _, _ = get("GET", "/std", "")
		assert.Equal(t, 404, code)
	})
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// A plain handler that holds its worker past Config.SlowHandler is logged
// to Config.Logger once per route with how long it took, on every engine;
// a quick route and a blocking one that waits as long are not. A worker
// times one request in slowSample: slowSample requests in a row to the slow
// route include a timed one.
func TestSlowPlainHandlerLoggedEndToEnd(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		var logs syncBuffer
		cfg := m.Cfg
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.SlowHandler = 30 * time.Millisecond
		s := startEngine(t, m, cfg, func(s *Server) {
			s.HandleFunc("GET /slow/{id}", func(w *Response, r *Request) {
				time.Sleep(60 * time.Millisecond) // the mistake: a plain handler that blocks
				w.WriteString("slow")
			})
			s.HandleFunc("GET /fast", func(w *Response, r *Request) { w.WriteString("fast") })
			s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				time.Sleep(60 * time.Millisecond) // fine: off the loop
			}))
		})
		base := "http://" + s.Addr().String()
		for _, p := range []string{"/slow/1", "/fast", "/blocking", "/slow/2"} {
			for i := 0; i < slowSample; i++ {
				resp, err := noRedirect.Get(base + p)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, 200, resp.StatusCode, p)
			}
		}
		out := logs.String()
		assert.Equal(t, 1, strings.Count(out, "held its worker"), out)
		assert.Contains(t, out, `pattern="GET /slow/{id}"`)
		assert.Contains(t, out, "level=WARN")
		assert.Contains(t, out, "threshold=30ms")
		assert.Regexp(t, `duration=[0-9.]+ms`, out)
	})
}

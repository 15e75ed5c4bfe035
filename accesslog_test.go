package uringd

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/accesslog"
)

// combinedLine is nginx's combined format plus the request time.
var combinedLine = regexp.MustCompile(`^(\S+) - - \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+\.\d{3})$`)

// Every kind of answer gets its line, with what the client sent and what
// the server answered: plain, blocking and net/http handlers, 404, HEAD,
// a refused request, pipelined requests, on every engine.
func TestAccessLogLinePerRequest(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		var mu sync.Mutex
		var out bytes.Buffer
		l := accesslog.New(lockedWriter{&mu, &out}, accesslog.Combined, nil)
		s := startEngine(t, m, Config{AccessLog: l}, func(s *Server) {
			s.HandleFunc("GET /plain", func(w *Response, r *Request) { w.WriteString("plain!") })
			s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.WriteHeader(201)
				io.WriteString(w, "blocking")
			}))
			s.Handle("/std/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "teapot", 418)
			})))
		})
		c := dialRaw(t, s)
		local := c.LocalAddr().(*net.TCPAddr).IP.String()
		req := func(method, target string) string {
			return method + " " + target + " HTTP/1.1\r\nHost: x\r\nUser-Agent: ua/1\r\nReferer: http://ref/\r\n\r\n"
		}
		_, err := io.WriteString(c, req("GET", "/plain?q=1")+req("HEAD", "/plain")+req("GET", "/blocking")+
			req("GET", "/std/x")+req("GET", "/missing"))
		require.NoError(t, err)
		for _, method := range []string{"GET", "HEAD", "GET", "GET", "GET"} {
			c.read(t, method)
		}
		bad := dialRaw(t, s)
		_, err = io.WriteString(bad, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
		require.NoError(t, err)
		resp, _ := bad.read(t, "GET")
		require.Equal(t, 400, resp.StatusCode)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
		require.NoError(t, l.Close()) // writes out what the sinks hold
		mu.Lock()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		mu.Unlock()
		want := []struct {
			request string
			status  int
			bytes   int
		}{
			{"GET /plain?q=1 HTTP/1.1", 200, 6},
			{"HEAD /plain HTTP/1.1", 200, 0},
			{"GET /blocking HTTP/1.1", 201, 8},
			{"GET /std/x HTTP/1.1", 418, 7},
			{"GET /missing HTTP/1.1", 404, len("404 page not found\n")},
			{"-", 400, len("Bad Request\n")},
		}
		require.Len(t, lines, len(want), out.String())
		got := map[string][]string{}
		for _, ln := range lines {
			f := combinedLine.FindStringSubmatch(ln)
			require.NotNil(t, f, "not the combined format: %q", ln)
			got[f[3]] = f
		}
		for _, w := range want {
			f := got[w.request]
			require.NotNil(t, f, "no line for %q in\n%s", w.request, out.String())
			assert.Equal(t, local, f[1], "remote address")
			_, err := time.Parse("02/Jan/2006:15:04:05 -0700", f[2])
			assert.NoError(t, err)
			assert.Equal(t, strconv.Itoa(w.status), f[4], w.request)
			assert.Equal(t, strconv.Itoa(w.bytes), f[5], w.request)
			if w.request != "-" {
				assert.Equal(t, "http://ref/", f[6])
				assert.Equal(t, "ua/1", f[7])
			}
		}
		assert.Zero(t, s.Stats().AccessLogDropped)
	})
}

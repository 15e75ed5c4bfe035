package uringd

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceMux is the handler run both on net/http's server and on
// uringd (through FromHTTP), whose answers are compared.
func conformanceMux(t *testing.T) http.Handler {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.txt"), []byte("file body\n"), 0o644))
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "index.txt"), mtime, mtime))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.PathValue("name"))
	})
	mux.HandleFunc("GET /query", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s=%s;", k, q[k])
		}
		fmt.Fprintf(w, " raw=%s uri=%s", r.URL.RawQuery, r.RequestURI)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Te", strings.Join(r.TransferEncoding, ","))
		w.Header().Set("X-Ct", r.Header.Get("Content-Type"))
		fmt.Fprintf(w, "%d:%s", len(b), b)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Proto", r.Proto)
		w.WriteHeader(201)
		io.WriteString(w, "<html><body>created</body></html>")
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("0123456789abcdef", 4096)) // 64 KiB: chunked on both
	})
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
	})
	mux.HandleFunc("GET /nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-A", "b")
		w.WriteHeader(204)
	})
	mux.HandleFunc("GET /declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "12345")
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hello/there", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "teapot", http.StatusTeapot)
	})
	mux.HandleFunc("GET /short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "abc") // fewer bytes than declared: the connection must close
	})
	mux.HandleFunc("GET /early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "final")
	})
	big := strings.Repeat("z", 100<<10)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), []byte(big), 0o644))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "big.bin"), mtime, mtime))
	mux.Handle("GET /files/", http.StripPrefix("/files/", http.FileServer(http.Dir(dir))))
	return mux
}

// exchange sends raw (one or more pipelined requests) on a new connection
// and reads n responses (methods gives each request's method, for HEAD).
type exchange struct {
	name    string
	raw     string
	methods []string
}

var conformanceCases = []exchange{
	{"path value", "GET /hello/gopher HTTP/1.1\r\nHost: example.com\r\n\r\n", []string{"GET"}},
	{"404 from ServeMux", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"405 from ServeMux", "DELETE /hello/x HTTP/1.1\r\nHost: x\r\n\r\n", []string{"DELETE"}},
	{"query string", "GET /query?b=2&a=1&a=3&c=%20x HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"POST body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world", []string{"POST"}},
	{"POST chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", []string{"POST"}},
	{"headers, 201, sniffed type", "GET /headers HTTP/1.1\r\nHost: h.example\r\n\r\n", []string{"GET"}},
	{"HEAD", "HEAD /headers HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HEAD"}},
	{"HEAD of a path value", "HEAD /hello/x HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HEAD"}},
	{"big body chunked", "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"streaming Flush", "GET /flush HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"204", "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"declared Content-Length", "GET /declared HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"file", "GET /files/index.txt HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"file 304", "GET /files/index.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT\r\n\r\n", []string{"GET"}},
	{"file range", "GET /files/index.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n", []string{"GET"}},
	{"empty handler", "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"redirect", "GET /redirect HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"http.Error", "GET /error HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"short body closes", "GET /short HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/after HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"103 early hints", "GET /early-hints HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"big file", "GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n", []string{"GET"}},
	{"HEAD big file", "HEAD /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HEAD"}},
	{"Connection: close", "GET /hello/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"GET"}},
	{"HTTP/1.0", "GET /hello/old HTTP/1.0\r\n\r\n", []string{"GET"}},
	{"HTTP/1.0 keep-alive", "GET /hello/old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", []string{"GET"}},
	{"HTTP/1.0 streaming", "GET /flush HTTP/1.0\r\n\r\n", []string{"GET"}},
	{"pipelined", "GET /hello/1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /flush HTTP/1.1\r\nHost: x\r\n\r\n" +
		"HEAD /hello/2 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /hello/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		[]string{"GET", "POST", "GET", "HEAD", "GET", "GET"}},
}

// answer is what is compared: status, headers without Date, decoded body,
// whether the response framing was chunked and whether the server closed.
type answer struct {
	Status    int
	Header    http.Header
	Body      string
	Chunked   bool
	Length    int64
	Close     bool
	ProtoLine string
}

func doExchange(t *testing.T, addr string, ex exchange) []answer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, ex.raw)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	var out []answer
	for _, m := range ex.methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		require.NoError(t, err, "reading the answer to %s", m)
		b, err := io.ReadAll(resp.Body)
		resp.Header.Del("Date")
		body := string(b)
		if len(body) > 200 { // keep failure messages readable
			body = fmt.Sprintf("%s... (%d bytes, sha256 %x)", body[:64], len(b), sha256.Sum256(b))
		}
		if err != nil { // e.g. a body shorter than its Content-Length: part of the answer
			body += " [read error: " + err.Error() + "]"
		}
		out = append(out, answer{
			Status: resp.StatusCode, Header: resp.Header, Body: body,
			Chunked: len(resp.TransferEncoding) > 0, Length: resp.ContentLength,
			Close: resp.Close, ProtoLine: resp.Proto,
		})
	}
	return out
}

func TestFromHTTPConformance(t *testing.T) {
	h := conformanceMux(t)
	ref := httptest.NewServer(h)
	defer ref.Close()
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) { s.Handle("/", FromHTTP(h)) })
		for _, ex := range conformanceCases {
			t.Run(ex.name, func(t *testing.T) {
				want := doExchange(t, ref.Listener.Addr().String(), ex)
				for i := range want {
					// The one deliberate difference: net/http answers an
					// HTTP/1.0 request "HTTP/1.0 ..."; uringd, as RFC 9110
					// section 2.5 asks, with the highest version it has.
					want[i].ProtoLine = "HTTP/1.1"
				}
				got := doExchange(t, s.Addr().String(), ex)
				assert.Equal(t, want, got)
			})
		}
	})
}

func TestFromHTTPRequestFields(t *testing.T) {
	got := make(chan *http.Request, 1)
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.Handle("/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r
			})))
		})
		c := dialRaw(t, s)
		_, err := io.WriteString(c, "PUT /p/a%20b?x=1 HTTP/1.1\r\nHost: h:1\r\nx-custom: v\r\nContent-Length: 2\r\n\r\nhi")
		require.NoError(t, err)
		r := <-got
		c.read(t, "PUT")
		assert.Equal(t, "PUT", r.Method)
		assert.Equal(t, "/p/a b", r.URL.Path)
		assert.Equal(t, "x=1", r.URL.RawQuery)
		assert.Equal(t, "/p/a%20b?x=1", r.RequestURI)
		assert.Equal(t, "h:1", r.Host)
		assert.Equal(t, "v", r.Header.Get("X-Custom"))
		assert.Empty(t, r.Header.Get("Host"))
		assert.Equal(t, int64(2), r.ContentLength)
		assert.Nil(t, r.TLS)
		assert.Equal(t, c.LocalAddr().String(), r.RemoteAddr)
		assert.Equal(t, 1, r.ProtoMinor)
	})
}

package uringd

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
)

// One response framer: whichever kind of handler answers (plain on the
// loop, blocking on the pool, net/http through FromHTTP, or a plain handler
// that offloads), the bytes of the head come from http1, so the same
// response has the same head.

// headCase is one response, written the same way by each handler kind.
type headCase struct {
	name   string
	status int
	ctype  string
	hdr    [][2]string // in name order: plain handlers keep call order, net/http sorts
	body   string
}

var headCases = []headCase{
	{name: "ok", status: 200, ctype: "text/plain", hdr: [][2]string{{"X-A", "1"}, {"X-B", "two"}}, body: "hello"},
	{name: "empty", status: 200, ctype: "text/plain"},
	{name: "notfound", status: 404, ctype: "text/plain; charset=utf-8", body: "no such thing\n"},
	{name: "created", status: 201, ctype: "application/json", hdr: [][2]string{{"Location", "/items/7"}}, body: `{"id":7}`},
	{name: "unknown-status", status: 599, ctype: "text/plain", body: "?"},
	{name: "nocontent", status: 204, hdr: [][2]string{{"X-A", "b"}}},
	{name: "notmodified", status: 304, hdr: [][2]string{{"Etag", `"v1"`}}},
	{name: "switching", status: 101, hdr: [][2]string{{"Upgrade", "none"}}},
}

// handlerKinds names the route prefixes of registerHeadCases.
var handlerKinds = []string{"plain", "blocking", "nethttp", "offload"}

// registerHeadCases mounts every case under /<kind>/<name>.
func registerHeadCases(s *Server) {
	mux := http.NewServeMux()
	for _, c := range headCases {
		s.HandleFunc("GET /plain/"+c.name, func(w *Response, r *Request) {
			w.SetStatus(c.status)
			if c.ctype != "" {
				w.SetContentType(c.ctype)
			}
			for _, f := range c.hdr {
				_ = w.SetHeader(f[0], f[1])
			}
			w.WriteString(c.body)
		})
		writeNetHTTP := func(w http.ResponseWriter) {
			if c.ctype != "" {
				w.Header().Set("Content-Type", c.ctype)
			}
			for _, f := range c.hdr {
				w.Header().Set(f[0], f[1])
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}
		blocking := BlockingHandlerFunc(func(ctx context.Context, w ResponseWriter, r *Request) { writeNetHTTP(w) })
		s.Handle("GET /blocking/"+c.name, Blocking(blocking))
		s.HandleFunc("GET /offload/"+c.name, func(w *Response, r *Request) {
			w.WriteString("discarded")
			Offload(w, r, blocking)
		})
		mux.HandleFunc("/nethttp/"+c.name, func(w http.ResponseWriter, r *http.Request) { writeNetHTTP(w) })
	}
	mux.HandleFunc("/nethttp/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		io.WriteString(w, "second")
	})
	s.Handle("GET /blocking/stream", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first;")
		w.Flush()
		io.WriteString(w, "second")
	}))
	s.Handle("/nethttp/", FromHTTP(mux))
}

// imfDate is a Date field line in the IMF-fixdate format (RFC 9110 section 5.6.7).
var imfDate = regexp.MustCompile(`(?m)^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT\r$`)

// rawExchange sends req on a new connection and returns the raw head (Date
// value replaced by "<date>" after checking its format) and the raw body:
// Content-Length bytes, a chunked body through its last chunk, or, with
// neither, what comes until the server closes.
func rawExchange(t *testing.T, s *Server, req string, head bool) (string, string) {
	t.Helper()
	c := dialRaw(t, s)
	_, err := io.WriteString(c, req)
	require.NoError(t, err)
	return readRaw(t, c.br, head)
}

func readRaw(t *testing.T, br *bufio.Reader, head bool) (string, string) {
	t.Helper()
	var h strings.Builder
	clen, chunked := -1, false
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "head so far %q", h.String())
		if strings.HasPrefix(line, "Date: ") {
			require.Regexp(t, imfDate, strings.TrimSuffix(line, "\n"))
			line = "Date: <date>\r\n"
		}
		h.WriteString(line)
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			clen, err = strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
		}
		if line == "Transfer-Encoding: chunked\r\n" {
			chunked = true
		}
	}
	status, _ := strconv.Atoi(strings.Fields(h.String())[1])
	if head || status < 200 || status == 204 || status == 304 {
		return h.String(), ""
	}
	var body []byte
	switch {
	case chunked:
		for !bytes.HasSuffix(body, []byte("\r\n0\r\n\r\n")) && !bytes.Equal(body, []byte("0\r\n\r\n")) {
			b, err := br.ReadByte()
			require.NoError(t, err, "chunked body so far %q", body)
			body = append(body, b)
		}
	case clen >= 0:
		body = make([]byte, clen)
		_, err := io.ReadFull(br, body)
		require.NoError(t, err)
	default:
		var err error
		body, err = io.ReadAll(br)
		require.NoError(t, err)
	}
	return h.String(), string(body)
}

// TestHTTP10StatusLineEveryHandlerKind: an HTTP/1.0 request is answered
// "HTTP/1.1 ..." by every kind of handler (RFC 9110 section 2.5: the highest
// minor version the server supports), with or without keep-alive.
func TestHTTP10StatusLineEveryHandlerKind(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, registerHeadCases)
		for _, kind := range append(handlerKinds, "stream") {
			path := "/" + kind + "/ok"
			if kind == "stream" {
				path = "/blocking/stream"
			}
			for _, conn := range []string{"", "Connection: keep-alive\r\n"} {
				head, _ := rawExchange(t, s, "GET "+path+" HTTP/1.0\r\n"+conn+"\r\n", false)
				assert.True(t, strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n"), "%s %q: %q", path, conn, head)
			}
		}
		head, _ := rawExchange(t, s, "GET /nethttp/stream HTTP/1.0\r\n\r\n", false)
		assert.True(t, strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n"), "net/http stream: %q", head)
	})
}

// TestHeadsAgreeAcrossHandlerKinds compares, byte for byte, the heads (and
// bodies) the handler kinds send for the same response, over requests that
// change the framing: HTTP/1.1, HEAD, Connection: close, HTTP/1.0 with and
// without keep-alive.
func TestHeadsAgreeAcrossHandlerKinds(t *testing.T) {
	requests := []struct {
		name, method, proto, extra string
	}{
		{"GET/1.1", "GET", "HTTP/1.1", "Host: x\r\n"},
		{"HEAD/1.1", "HEAD", "HTTP/1.1", "Host: x\r\n"},
		{"close", "GET", "HTTP/1.1", "Host: x\r\nConnection: close\r\n"},
		{"GET/1.0", "GET", "HTTP/1.0", ""},
		{"GET/1.0 keep-alive", "GET", "HTTP/1.0", "Connection: keep-alive\r\n"},
	}
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, registerHeadCases)
		for _, c := range headCases {
			for _, rq := range requests {
				t.Run(c.name+"/"+rq.name, func(t *testing.T) {
					req := func(kind string) string {
						return rq.method + " /" + kind + "/" + c.name + " " + rq.proto + "\r\n" + rq.extra + "\r\n"
					}
					wantHead, wantBody := rawExchange(t, s, req("plain"), rq.method == "HEAD")
					assert.True(t, strings.HasPrefix(wantHead, "HTTP/1.1 "+strconv.Itoa(c.status)+" "), wantHead)
					assert.Contains(t, wantHead, "Date: <date>\r\n")
					if c.status < 200 || c.status == 204 || c.status == 304 {
						assert.NotContains(t, wantHead, "Content-Length")
						assert.NotContains(t, wantHead, "Transfer-Encoding")
					} else {
						assert.Contains(t, wantHead, "Content-Length: "+strconv.Itoa(len(c.body))+"\r\n")
					}
					if rq.method != "HEAD" {
						assert.Equal(t, c.body, wantBody)
					}
					for _, kind := range handlerKinds[1:] {
						head, body := rawExchange(t, s, req(kind), rq.method == "HEAD")
						want := wantHead
						if rq.method == "HEAD" && c.body == "" && http1.BodyAllowed(c.status) {
							// net/http's rule for its handlers: one that writes
							// nothing for HEAD may still have a body for GET, so
							// the length is left out rather than said to be 0.
							want = strings.Replace(want, "Content-Length: 0\r\n", "", 1)
						}
						assert.Equal(t, want, head, kind)
						assert.Equal(t, wantBody, body, kind)
					}
				})
			}
		}
		// A streamed body: blocking and net/http frame it alike.
		for _, rq := range requests {
			t.Run("stream/"+rq.name, func(t *testing.T) {
				req := func(kind string) string {
					return rq.method + " /" + kind + "/stream " + rq.proto + "\r\n" + rq.extra + "\r\n"
				}
				wantHead, wantBody := rawExchange(t, s, req("blocking"), rq.method == "HEAD")
				head, body := rawExchange(t, s, req("nethttp"), rq.method == "HEAD")
				assert.Equal(t, wantHead, head)
				assert.Equal(t, wantBody, body)
				switch {
				case rq.method == "HEAD":
					assert.NotContains(t, head, "Transfer-Encoding")
				case rq.proto == "HTTP/1.1":
					assert.Contains(t, head, "Transfer-Encoding: chunked\r\n")
					assert.Equal(t, "6\r\nfirst;\r\n6\r\nsecond\r\n0\r\n\r\n", body)
				default: // HTTP/1.0 cannot read chunked: the body ends with the connection
					assert.Contains(t, head, "Connection: close\r\n")
					assert.Equal(t, "first;second", body)
				}
			})
		}
	})
}

// TestInterimResponseHead: a 103 from a blocking or net/http handler goes out
// as its own head (no Date, no framing fields) ahead of the final response,
// and never to an HTTP/1.0 client (RFC 9110 section 15.2).
func TestInterimResponseHead(t *testing.T) {
	hints := func(w http.ResponseWriter) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "final")
	}
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.Handle("GET /hints", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) { hints(w) }))
			s.Handle("/nethttp/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hints(w) })))
		})
		for _, path := range []string{"/hints", "/nethttp/hints"} {
			c := dialRaw(t, s)
			_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			head, _ := readRaw(t, c.br, false)
			assert.Equal(t, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n", head, path)
			head, body := readRaw(t, c.br, false)
			assert.Equal(t, "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Type: text/plain\r\n"+
				"Link: </style.css>; rel=preload\r\nContent-Length: 5\r\n\r\n", head, path)
			assert.Equal(t, "final", body)

			head, body = rawExchange(t, s, "GET "+path+" HTTP/1.0\r\n\r\n", false)
			assert.True(t, strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n"), "%s: no 1xx for HTTP/1.0: %q", path, head)
			assert.Equal(t, "final", body)
		}
	})
}

// TestBlockingResponseFieldsAndFraming: what a blocking handler puts in its
// header map reaches the wire through http1's checks, with net/http's
// leniency (CR and LF become spaces, values are trimmed); fields that
// cannot be sent are dropped; a handler's Transfer-Encoding or
// Content-Length decides the framing; net/http's write errors.
func TestBlockingResponseFieldsAndFraming(t *testing.T) {
	big := strings.Repeat("b", 40000) // past the 32 KiB hold
	errs := make(chan error, 2)
	ForEachMode(t, func(t *testing.T, e TestMode) {
		s := startEngine(t, e, Config{}, func(s *Server) {
			s.Handle("GET /fields", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				h := w.Header()
				h["Bad Name"] = []string{"x"}
				h.Set("X-Split", "a\r\nInjected: 1")
				h.Set("X-Ctl", "a\x01b")
				h.Set("X-Trim", "  v  ")
				h.Set("Content-Type", "text/plain")
				io.WriteString(w, "ok")
			}))
			s.Handle("GET /te", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Header().Set("Transfer-Encoding", "chunked")
				w.Header().Set("Content-Length", "5")
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "hello")
			}))
			s.Handle("GET /declared-big", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, big[:100])
				io.WriteString(w, big[100:])
			}))
			s.Handle("GET /errors", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.Header().Set("Content-Length", "3")
				_, err := io.WriteString(w, "abcd")
				errs <- err
				w.WriteHeader(204) // ignored: the failed Write decided 200
				_, err = io.WriteString(w, "abc")
				errs <- err
			}))
			s.Handle("GET /nobody", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				w.WriteHeader(204)
				_, err := io.WriteString(w, "x")
				errs <- err
			}))
		})
		head, body := rawExchange(t, s, "GET /fields HTTP/1.1\r\nHost: x\r\n\r\n", false)
		assert.Equal(t, "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Type: text/plain\r\n"+
			"X-Split: a  Injected: 1\r\nX-Trim: v\r\nContent-Length: 2\r\n\r\n", head)
		assert.Equal(t, "ok", body)

		head, body = rawExchange(t, s, "GET /te HTTP/1.1\r\nHost: x\r\n\r\n", false)
		assert.Equal(t, "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Type: text/plain\r\n"+
			"Transfer-Encoding: chunked\r\n\r\n", head)
		assert.Equal(t, "5\r\nhello\r\n0\r\n\r\n", body)

		head, body = rawExchange(t, s, "GET /declared-big HTTP/1.1\r\nHost: x\r\n\r\n", false)
		assert.Equal(t, "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Type: text/plain\r\n"+
			"Content-Length: 40000\r\n\r\n", head)
		assert.Equal(t, big, body)

		head, body = rawExchange(t, s, "GET /errors HTTP/1.1\r\nHost: x\r\n\r\n", false)
		assert.ErrorIs(t, <-errs, http.ErrContentLength)
		assert.NoError(t, <-errs)
		assert.True(t, strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n"), head)
		assert.Contains(t, head, "Content-Length: 3\r\n")
		assert.Equal(t, "abc", body)

		head, _ = rawExchange(t, s, "GET /nobody HTTP/1.1\r\nHost: x\r\n\r\n", false)
		assert.ErrorIs(t, <-errs, http.ErrBodyNotAllowed)
		assert.Equal(t, "HTTP/1.1 204 No Content\r\nDate: <date>\r\n\r\n", head)
	})
}

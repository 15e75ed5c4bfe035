package uringd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/http1"
)

// routeAnswer is what a request got from a router: the pattern that served it
// and its path values, or the router's own status with Location / Allow.
type routeAnswer struct {
	status   int
	pattern  string // X-Pattern: which registration answered
	values   string // X-Values: "name=value" for each wildcard
	location string
	allow    string
}

func (a routeAnswer) String() string {
	return fmt.Sprintf("%d %q %q loc=%q allow=%q", a.status, a.pattern, a.values, a.location, a.allow)
}

// patternHandler answers with the pattern it was registered for and the
// values of its wildcards, read with PathValue.
func patternHandler(t testing.TB, pat string) Handler {
	p, err := parsePattern(pat)
	require.NoError(t, err)
	return HandlerFunc(func(w *Response, r *Request) {
		var vals []string
		for _, n := range p.names {
			vals = append(vals, n+"="+string(r.PathValue(n)))
		}
		_ = w.SetHeader("X-Pattern", pat)
		_ = w.SetHeader("X-Values", strings.Join(vals, ","))
	})
}

// serveRouter runs one request through rt.ServeHTTP and parses the bytes it
// would have sent.
func serveRouter(t testing.TB, rt *router, method, target string) routeAnswer {
	req := Request{Method: []byte(method), Target: []byte(target), ProtoMinor: 1, ContentLength: -1}
	path, query, hasQuery := strings.Cut(target, "?")
	req.Path = []byte(path)
	if hasQuery {
		req.Query = []byte(query)
	}
	var w http1.Response
	w.Reset(nil, &req, nil)
	rt.ServeHTTP(&w, &req)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(w.Finish())), &http.Request{Method: method})
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	return routeAnswer{resp.StatusCode, resp.Header.Get("X-Pattern"), resp.Header.Get("X-Values"),
		resp.Header.Get("Location"), resp.Header.Get("Allow")}
}

// serveMux is the same request through net/http.ServeMux.
func serveMux(mux *http.ServeMux, method, target string) routeAnswer {
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	h := rec.Result().Header
	return routeAnswer{rec.Code, h.Get("X-Pattern"), h.Get("X-Values"), h.Get("Location"), h.Get("Allow")}
}

func stdPatternHandler(t testing.TB, pat string) http.Handler {
	p, err := parsePattern(pat)
	require.NoError(t, err)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var vals []string
		for _, n := range p.names {
			vals = append(vals, n+"="+r.PathValue(n))
		}
		w.Header().Set("X-Pattern", pat)
		w.Header().Set("X-Values", strings.Join(vals, ","))
	})
}

type routeCase struct {
	method, target string
	want           routeAnswer
}

func ok(pat, values string) routeAnswer {
	return routeAnswer{status: 200, pattern: pat, values: values}
}
func moved(loc string) routeAnswer { return routeAnswer{status: 307, location: loc} }
func notAllowed(allow string) routeAnswer {
	return routeAnswer{status: 405, allow: allow}
}

var notFound = routeAnswer{status: 404}

// routeTables are patterns and requests, with what ServeMux answers too
// (checked by TestRouterPatternTable against net/http on the same table).
var routeTables = []struct {
	name     string
	patterns []string
	cases    []routeCase
}{{
	name: "no catch-all",
	patterns: []string{
		"GET /items/{id}", "POST /items/{id}", "DELETE /items/{id}", "GET /items/new",
		"/files/{path...}", "GET /static/", "HEAD /head-only", "GET /get-only", "/api/",
		"GET /dir/", "GET /user/{id}/posts/{post}", "GET /exact", "PUT /exact",
		"GET /docs/{$}", "/a/{x}/c", "POST /sub/",
	},
	cases: []routeCase{
		{"GET", "/items/42", ok("GET /items/{id}", "id=42")},
		{"HEAD", "/items/42", ok("GET /items/{id}", "id=42")},
		{"POST", "/items/42", ok("POST /items/{id}", "id=42")},
		{"PUT", "/items/42", notAllowed("DELETE, GET, HEAD, POST")},
		{"GET", "/items/new", ok("GET /items/new", "")},          // a literal beats a wildcard
		{"POST", "/items/new", ok("POST /items/{id}", "id=new")}, // ... only for its method
		{"PUT", "/items/new", notAllowed("DELETE, GET, HEAD, POST")},
		{"GET", "/items/", notFound}, // {id} does not match an empty segment
		{"GET", "/items", notFound},
		{"GET", "/items/1/2", notFound},
		{"GET", "/files", moved("/files/")},
		{"GET", "/files/", ok("/files/{path...}", "path=")},
		{"PATCH", "/files/a/b/c.txt", ok("/files/{path...}", "path=a/b/c.txt")},
		{"GET", "/static", moved("/static/")},
		{"GET", "/static/x.css", ok("GET /static/", "")},
		{"POST", "/static/x.css", notAllowed("GET, HEAD")},
		{"HEAD", "/head-only", ok("HEAD /head-only", "")},
		{"GET", "/head-only", notAllowed("HEAD")},
		{"HEAD", "/get-only", ok("GET /get-only", "")},
		{"GET", "/apiX", notFound}, // a subtree matches at segment boundaries only
		{"GET", "/api", moved("/api/")},
		{"POST", "/api/v1/x", ok("/api/", "")},
		{"GET", "/dir?q=1", moved("/dir/?q=1")},
		{"POST", "/dir", notAllowed("GET, HEAD")}, // as ServeMux: the methods of "/dir/" count
		{"GET", "/user/1/posts/2", ok("GET /user/{id}/posts/{post}", "id=1,post=2")},
		{"GET", "/exact", ok("GET /exact", "")},
		{"DELETE", "/exact", notAllowed("GET, HEAD, PUT")},
		{"GET", "/exact/", notFound},
		{"GET", "/docs/", ok("GET /docs/{$}", "")},
		{"GET", "/docs/x", notFound},
		{"GET", "/docs", moved("/docs/")},
		{"GET", "/a/b/c", ok("/a/{x}/c", "x=b")},
		{"GET", "/a/b/d", notFound},
		{"GET", "/sub", notAllowed("POST")},
		{"POST", "/sub", moved("/sub/")},
		{"GET", "/", notFound},
	},
}, {
	name: "catch-all",
	patterns: []string{
		"GET /{$}", "/", "GET /items/{id}", "GET /items/new", "/api/", "GET /dir/",
		"GET /v/{rest...}", "/x/{a}/{b}", "GET /x/{a}/b",
	},
	cases: []routeCase{
		{"GET", "/", ok("GET /{$}", "")},
		{"HEAD", "/", ok("GET /{$}", "")},
		{"POST", "/", ok("/", "")},
		{"GET", "/nope", ok("/", "")},
		{"GET", "/apiX", ok("/", "")},
		{"GET", "/api", moved("/api/")},
		{"GET", "/api/", ok("/api/", "")},
		{"GET", "/items/7", ok("GET /items/{id}", "id=7")},
		{"DELETE", "/items/7", ok("/", "")},
		{"GET", "/items/", ok("/", "")},
		{"GET", "/dir", moved("/dir/")},
		{"POST", "/dir", ok("/", "")},
		{"GET", "/v", moved("/v/")},
		{"GET", "/v/", ok("GET /v/{rest...}", "rest=")},
		{"GET", "/v/a/b", ok("GET /v/{rest...}", "rest=a/b")},
		{"GET", "/x/1/b", ok("GET /x/{a}/b", "a=1")},
		{"PUT", "/x/1/b", ok("/x/{a}/{b}", "a=1,b=b")},
		{"GET", "/x/1/2", ok("/x/{a}/{b}", "a=1,b=2")},
		{"GET", "/x/1", ok("/", "")},
	},
}}

// TestRouterPatternTable checks every case against the router and against
// net/http.ServeMux with the same patterns: the supported subset behaves as
// ServeMux does.
func TestRouterPatternTable(t *testing.T) {
	for _, tab := range routeTables {
		t.Run(tab.name, func(t *testing.T) {
			var rt router
			mux := http.NewServeMux()
			for _, p := range tab.patterns {
				rt.add(p, patternHandler(t, p))
				mux.Handle(p, stdPatternHandler(t, p))
			}
			for _, c := range tab.cases {
				t.Run(c.method+" "+c.target, func(t *testing.T) {
					assert.Equal(t, c.want.String(), serveMux(mux, c.method, c.target).String(), "net/http.ServeMux")
					assert.Equal(t, c.want.String(), serveRouter(t, &rt, c.method, c.target).String(), "uringd router")
				})
			}
		})
	}
}

// Registrations that ServeMux refuses panic here too, with the conflicting
// pattern and where it was registered in the message.
func TestRouterConflictsPanic(t *testing.T) {
	conflicts := [][2]string{
		{"GET /a", "GET /a"},
		{"/a/{x}", "/a/{y}"},
		{"/a/{x}/c", "/a/b/{y}"},
		{"GET /a/{x}", "/a/b"},
		{"GET /a/b", "HEAD /a/{x}"},
		{"/files/", "/files/{rest...}"},
		{"/{$}", "/{$}"},
		{"GET /x/{a}", "GET /{b}/y"},
	}
	for _, c := range conflicts {
		t.Run(c[0]+" vs "+c[1], func(t *testing.T) {
			h := HandlerFunc(func(w *Response, r *Request) {})
			mux := http.NewServeMux()
			mux.Handle(c[0], http.NotFoundHandler())
			assert.Panics(t, func() { mux.Handle(c[1], http.NotFoundHandler()) }, "net/http.ServeMux")
			var rt router
			rt.add(c[0], h)
			defer func() {
				p := recover()
				require.NotNil(t, p, "no panic")
				msg := fmt.Sprint(p)
				assert.Contains(t, msg, fmt.Sprintf("%q", c[0]))
				assert.Contains(t, msg, "router_test.go:")
			}()
			rt.add(c[1], h)
		})
	}
	// Neither more specific but disjoint, or one more specific: accepted.
	var rt router
	mux := http.NewServeMux()
	h := HandlerFunc(func(w *Response, r *Request) {})
	for _, p := range []string{"GET /a/{x}", "POST /a/b", "/a/b/", "/b/{x}/c/", "/{$}", "/", "GET /b/{x}/{$}", "HEAD /a/b/c"} {
		assert.NotPanics(t, func() { mux.Handle(p, http.NotFoundHandler()) }, "net/http.ServeMux: %s", p)
		assert.NotPanics(t, func() { rt.add(p, h) }, p)
	}
}

func TestRouterRejectsBadRegistrations(t *testing.T) {
	h := HandlerFunc(func(w *Response, r *Request) {})
	bad := map[string]string{
		"a":                                    "must start with '/'",
		"":                                     "empty pattern",
		"get /a":                               "invalid method \"get\"",
		"GE(T /a":                              "invalid method",
		"example.com/a":                        "host patterns are not supported",
		"/a//b":                                "empty segment",
		"/a{x}":                                "a wildcard must be a whole segment",
		"/{x}y":                                "a wildcard must be a whole segment",
		"/{1x}":                                "bad wildcard name",
		"/{x...}/y":                            "must be the last segment",
		"/{$}/y":                               "{$} must be the last segment",
		"/{x}/{x}":                             "duplicate wildcard name",
		"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}": "more than 8 wildcards",
	}
	for pat, want := range bad {
		var rt router
		msg := panicMessage(func() { rt.add(pat, h) })
		assert.True(t, strings.HasPrefix(msg, fmt.Sprintf("uringd: bad pattern %q: ", pat)), msg)
		assert.Contains(t, msg, want, pat)
	}
	var rt router
	assert.PanicsWithValue(t, `uringd: nil handler for pattern "/c"`, func() { rt.add("/c", nil) })
	assert.PanicsWithValue(t, `uringd: nil handler for pattern "/c"`, func() { rt.add("/c", HandlerFunc(nil)) })
	assert.Panics(t, func() { Blocking(nil) })
	assert.Panics(t, func() { Blocking(BlockingHandlerFunc(nil)) })
	assert.Panics(t, func() { BlockingFunc(nil) })
	assert.Panics(t, func() { FromHTTP(nil) })
	assert.Panics(t, func() { FromHTTP(http.HandlerFunc(nil)) })
	s, err := New(Config{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, `uringd: nil handler for pattern "/x"`, func() { s.HandleFunc("/x", nil) })
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprint(p)
		}
	}()
	f()
	return "no panic"
}

// Path values are views into r.Path: they survive CloneRequest (offsets,
// not pointers), and a pattern without wildcards leaves none.
func TestPathValueViewsAndClone(t *testing.T) {
	var rt router
	var got, cloned []byte
	rt.add("GET /u/{id}/{rest...}", HandlerFunc(func(w *Response, r *Request) {
		got = r.PathValue("id")
		c := CloneRequest(r)
		r.Path[3] = 'X' // the receive buffer is reused
		cloned = c.PathValue("id")
		assert.Nil(t, r.PathValue("nope"))
		assert.Equal(t, "b/c", string(c.PathValue("rest")))
	}))
	rt.add("GET /plain", HandlerFunc(func(w *Response, r *Request) {
		assert.Nil(t, r.PathValue("id"))
		assert.Nil(t, r.PathValueNames())
	}))
	serveRouter(t, &rt, "GET", "/u/42/b/c")
	assert.Equal(t, "X2", string(got), "a view into the path")
	assert.Equal(t, "42", string(cloned), "the clone has its own copy")
	assert.Equal(t, 200, serveRouter(t, &rt, "GET", "/plain").status)
}

// A lookup allocates nothing: exact routes (few and many), wildcards with
// their values, subtrees, 404, 405 with Allow and the /dir redirect.
func TestRouterLookupDoesNotAllocate(t *testing.T) {
	for _, n := range []int{2, 40} {
		var rt router
		nop := HandlerFunc(func(w *Response, r *Request) { _ = r.PathValue("id") })
		for i := 0; i < n; i++ {
			rt.add(fmt.Sprintf("GET /r%d", i), nop)
		}
		rt.add("GET /items/{id}", nop)
		rt.add("GET /files/", nop)
		rt.add("POST /form", nop)
		var reqs []Request
		for _, tg := range []string{"/r1", "/items/42", "/files/a/b", "/none", "/form", "/files"} {
			reqs = append(reqs, Request{Method: []byte("GET"), Path: []byte(tg), Target: []byte(tg), ProtoMinor: 1})
		}
		out := make([]byte, 0, 4096)
		var w http1.Response
		allocs := testing.AllocsPerRun(1000, func() {
			for i := range reqs {
				w.Reset(out[:0], &reqs[i], nil)
				rt.ServeHTTP(&w, &reqs[i])
			}
		})
		assert.Zero(t, allocs, "n=%d", n)
	}
}

// Exact routes are compared in turn while there are few and hashed beyond;
// both sides of the threshold find every route and nothing else.
func TestRouterManyExactRoutes(t *testing.T) {
	for _, n := range []int{1, fewRoutes, fewRoutes + 1, 40} {
		var rt router
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("GET /r%d", i)
			rt.add(p, patternHandler(t, p))
		}
		for i := 0; i < n; i++ {
			assert.Equal(t, ok(fmt.Sprintf("GET /r%d", i), ""), serveRouter(t, &rt, "GET", fmt.Sprintf("/r%d", i)), "n=%d", n)
		}
		assert.Equal(t, notFound, serveRouter(t, &rt, "GET", fmt.Sprintf("/r%d", n)), "n=%d", n)
		assert.Equal(t, notAllowed("GET, HEAD"), serveRouter(t, &rt, "POST", "/r0"), "n=%d", n)
	}
}

// A plain handler that holds its worker past Config.SlowHandler is logged
// once per route, with the pattern and how long it took; a fast one and an
// offloaded one are not.
func TestSlowPlainHandlerLoggedOncePerRoute(t *testing.T) {
	var logs bytes.Buffer
	var rt router
	rt.slow, rt.epoch = DefaultSlowHandler, time.Now()
	rt.log = slog.New(slog.NewTextHandler(&logs, nil))
	hold := HandlerFunc(func(w *Response, r *Request) { time.Sleep(DefaultSlowHandler + 20*time.Millisecond) })
	rt.add("GET /slow", hold)
	rt.add("GET /slow2/{id}", hold)
	rt.add("GET /fast", HandlerFunc(func(w *Response, r *Request) {}))
	rt.add("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {}))
	for i := 0; i < 3; i++ {
		serveRouter(t, &rt, "GET", "/slow")
		serveRouter(t, &rt, "GET", "/slow2/x")
		serveRouter(t, &rt, "GET", "/fast")
	}
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "held its worker"), out)
	assert.Equal(t, 1, strings.Count(out, `pattern="GET /slow"`), out)
	assert.Equal(t, 1, strings.Count(out, `pattern="GET /slow2/{id}"`), out)
	assert.NotContains(t, out, "/fast")
	assert.Contains(t, out, "duration=")
	assert.Contains(t, out, "threshold=100ms")
}

// BenchmarkRouterLookup measures finding the handler (and the path values):
// an exact route among few and among many, a subtree, a wildcard, a miss.
func BenchmarkRouterLookup(b *testing.B) {
	nop := HandlerFunc(func(w *Response, r *Request) {})
	for _, n := range []int{4, 40} {
		var rt router
		for i := 0; i < n; i++ {
			rt.add(fmt.Sprintf("GET /r%d", i), nop)
		}
		rt.add("GET /files/", nop)
		rt.add("GET /items/{id}", nop)
		m := []byte("GET")
		for _, p := range []string{"/r1", "/files/a/b.css", "/items/42", "/none"} {
			path := []byte(p)
			b.Run(fmt.Sprintf("exact%d%s", n, p), func(b *testing.B) {
				b.ReportAllocs()
				var spans http1.PathSpans
				for i := 0; i < b.N; i++ {
					rt.match(m, path, &spans)
				}
			})
		}
	}
}

// BenchmarkRouterServe is a whole dispatch of a plain handler on an exact
// route: lookup, path values, the Config.SlowHandler clock, the handler.
func BenchmarkRouterServe(b *testing.B) {
	var rt router
	rt.slow, rt.log, rt.epoch = DefaultSlowHandler, slog.Default(), time.Now()
	rt.add("GET /hello", HandlerFunc(func(w *Response, r *Request) { _, _ = w.WriteString("Hello, World!") }))
	rt.add("GET /items/{id}", HandlerFunc(func(w *Response, r *Request) { _, _ = w.Write(r.PathValue("id")) }))
	for _, p := range []string{"/hello", "/items/42"} {
		req := Request{Method: []byte("GET"), Path: []byte(p), Target: []byte(p), ProtoMinor: 1}
		out := make([]byte, 0, 4096)
		for _, worker := range []bool{true, false} {
			// A worker's loopMux times one request in slowSample; the
			// netpoll engine calls the router, which times each.
			var h interface {
				ServeHTTP(*http1.Response, *Request)
			} = &rt
			if worker {
				h = &loopMux{rt: &rt}
			}
			b.Run(fmt.Sprintf("%s/worker=%v", p, worker), func(b *testing.B) {
				b.ReportAllocs()
				var w http1.Response
				for i := 0; i < b.N; i++ {
					w.Reset(out[:0], &req, nil)
					h.ServeHTTP(&w, &req)
				}
			})
		}
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{}.withDefaults()
	require.NoError(t, c.validate())
	assert.Equal(t, DefaultAddr, c.Addr)
	assert.Equal(t, DefaultMaxHeaderBytes, c.MaxHeaderBytes)
	assert.Equal(t, int64(DefaultMaxStreamBody), c.MaxStreamBody)
	assert.Equal(t, int64(DefaultMinBodyRate), c.MinBodyRate)
	assert.Equal(t, DefaultRequestReadTimeout, c.RequestReadTimeout)
	assert.NotNil(t, c.Logger)

	bad := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxHeaders = -1 }, "Config.MaxHeaders = -1 is out of range"},
		{func(c *Config) { c.RingEntries = 100 }, "Config.RingEntries = 100 must be a power of two"},
		{func(c *Config) { c.RecvBuffers = 3 }, "Config.RecvBuffers = 3 must be a power of two"},
		{func(c *Config) { c.MaxURI = 1 << 20 }, "Config.MaxURI (1048576) must not exceed Config.MaxHeaderBytes"},
		{func(c *Config) { c.IdleTimeout = -1 }, "Config.IdleTimeout = -1 is out of range"},
		{func(c *Config) { c.MinBodyRate = -1 }, "Config.MinBodyRate = -1 is out of range"},
		{func(c *Config) { c.MinBodyRateGrace = -1 }, "Config.MinBodyRateGrace = -1 is out of range"},
		{func(c *Config) { c.RequestReadTimeout = -1 }, "Config.RequestReadTimeout = -1 is out of range"},
		{func(c *Config) { c.MaxStreamBody = -1 }, "Config.MaxStreamBody = -1 is out of range"},
	}
	for _, b := range bad {
		c := Config{}.withDefaults()
		b.mut(&c)
		err := c.validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), b.want)
	}
	_, err := New(Config{MaxPendingOutput: 10})
	assert.ErrorContains(t, err, "Config.MaxPendingOutput = 10 is out of range [4096,")
}

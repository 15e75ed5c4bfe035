package uringd

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/http1"
)

// router maps a request's method and path to a Handler with net/http
// ServeMux's rules (pattern.go): the most specific pattern wins,
// registrations that overlap with neither more specific panic, a path that
// matches only with another method gets 405 with Allow, "/dir" is redirected
// (307, as ServeMux) to "/dir/" when only the subtree matches it, a GET pattern also
// answers HEAD, and anything else is 404. Lookups do not allocate.
//
// Patterns without wildcards ("GET /hello", "/a/{$}") are looked up
// exactly: compared in turn while there are few, else in a map. The others
// are tried in an order where a pattern comes before every pattern more
// general than it, so the first that matches is the most specific.
//
// The router is immutable once the server serves: Handle after
// ListenAndServe panics (workers read it without locks).
type router struct {
	exact map[string]*exactRoute
	// few holds the exact routes while there are at most fewRoutes of
	// them: comparing a short path with a handful of strings (length
	// first) costs less than hashing it for the map.
	few  []*exactRoute
	wild []*entry // more specific before more general
	all  []*entry // in registration order, for conflict checks
	// slashEnds reports a pattern other than the root that matches some
	// path ending in '/' exactly: only then can "/dir" redirect to "/dir/".
	slashEnds bool

	slow time.Duration // Config.SlowHandler
	log  *slog.Logger
	// epoch makes the slow-handler clock one monotonic read per side
	// (time.Since(epoch)): time.Now also reads the wall clock, which costs
	// as much again.
	epoch time.Time
}

const fewRoutes = 8

// entry is one registration: a pattern and its handler.
type entry struct {
	pat   *pattern
	h     Handler
	plain bool // runs on the event loop (not offloaded): timed against Config.SlowHandler
	// slowLogged makes the slow-handler warning once per route; workers
	// share it, hence atomic.
	slowLogged atomic.Bool
}

// exactRoute is every registration of one wildcard-free path. The methods
// sit beside the entries so that the hot lookup reads one array.
type exactRoute struct {
	path    string
	methods []string
	entries []*entry
}

func (rt *router) add(pat string, h Handler) {
	if isNilHandler(h) {
		panic(fmt.Sprintf("uringd: nil handler for pattern %q", pat))
	}
	p, err := parsePattern(pat)
	if err != nil {
		panic(fmt.Sprintf("uringd: bad pattern %q: %v", pat, err))
	}
	p.loc = caller()
	for _, e := range rt.all {
		switch p.compare(e.pat) {
		case equivalent:
			panic(fmt.Sprintf("uringd: pattern %q (registered at %s) matches the same requests as %q (registered at %s)",
				p.str, p.loc, e.pat.str, e.pat.loc))
		case overlaps:
			panic(fmt.Sprintf("uringd: pattern %q (registered at %s) conflicts with %q (registered at %s): "+
				"both match some requests and neither is more specific (as with net/http.ServeMux)",
				p.str, p.loc, e.pat.str, e.pat.loc))
		}
	}
	_, offloaded := h.(*offloader)
	e := &entry{pat: p, h: h, plain: !offloaded}
	rt.all = append(rt.all, e)
	if l := p.last(); l.end || l.multi && len(p.segs) > 1 {
		rt.slashEnds = true
	}
	if p.literal != "" {
		rt.addExact(e)
		return
	}
	// Insert before the first more general pattern: everything more
	// specific than e is already before that one (the order is transitive).
	i := 0
	for i < len(rt.wild) && p.compare(rt.wild[i].pat) != moreSpecific {
		i++
	}
	rt.wild = append(rt.wild[:i], append([]*entry{e}, rt.wild[i:]...)...)
}

func (rt *router) addExact(e *entry) {
	path := e.pat.literal
	r := rt.exact[path]
	if r == nil {
		if rt.exact == nil {
			rt.exact = make(map[string]*exactRoute)
		}
		r = &exactRoute{path: path}
		rt.exact[path] = r
		rt.few = nil
		if len(rt.exact) <= fewRoutes {
			for _, r := range rt.exact {
				rt.few = append(rt.few, r)
			}
		}
	}
	r.methods = append(r.methods, e.pat.method)
	r.entries = append(r.entries, e)
}

// isNilHandler catches nil and the nil funcs of this package's func types,
// which would otherwise fail on every request rather than at registration.
func isNilHandler(h Handler) bool {
	switch f := h.(type) {
	case nil:
		return true
	case HandlerFunc:
		return f == nil
	case *offloader:
		return f == nil
	}
	return false
}

// caller is the file:line of the user's registration (outside this package's
// registration functions), for conflict messages as ServeMux gives them.
func caller() string {
	for skip := 2; ; skip++ {
		pc, file, line, ok := runtime.Caller(skip)
		if !ok {
			return "?"
		}
		fn := runtime.FuncForPC(pc)
		if fn == nil || !strings.Contains(fn.Name(), "uringd/uringd.(*router)") &&
			!strings.Contains(fn.Name(), "uringd/uringd.(*Server).Handle") {
			return fmt.Sprintf("%s:%d", file, line)
		}
	}
}

func methodMatches(pm string, m []byte) bool {
	return pm == "" || pm == string(m) || pm == "GET" && string(m) == "HEAD"
}

// match returns the most specific entry for method and path (nil if none),
// records its wildcards' values in spans (if non-nil), and reports whether
// the match is exact (see pattern.match).
func (rt *router) match(method, path []byte, spans *http1.PathSpans) (*entry, bool) {
	if r := rt.exactRoute(path); r != nil {
		if e := r.lookup(method); e != nil {
			return e, true
		}
	}
	for _, e := range rt.wild {
		if !methodMatches(e.pat.method, method) {
			continue
		}
		if ok, exact := e.pat.match(path, spans); ok {
			return e, exact
		}
	}
	return nil, false
}

func (rt *router) exactRoute(path []byte) *exactRoute {
	if len(rt.exact) > fewRoutes {
		return rt.exact[string(path)]
	}
	for _, r := range rt.few {
		if r.path == string(path) {
			return r
		}
	}
	return nil
}

// lookup picks the entry for method: the method itself, then GET for
// HEAD, then any method (the order of specificity).
func (r *exactRoute) lookup(method []byte) *entry {
	get, anyMethod := -1, -1
	for i, m := range r.methods {
		// Comparisons, not a switch on m: a case string(method) would
		// copy the method into a string for every request.
		switch {
		case m == string(method):
			return r.entries[i]
		case m == "":
			anyMethod = i
		case m == "GET" && string(method) == "HEAD":
			get = i
		}
	}
	if get >= 0 {
		return r.entries[get]
	}
	if anyMethod >= 0 {
		return r.entries[anyMethod]
	}
	return nil
}

// streamsBody reports whether req, whose head is parsed and whose body is
// still to come, goes to a blocking handler that reads its body as it
// arrives (StreamingBody): the engines then hand it over at once.
func (rt *router) streamsBody(req *http1.Request) bool {
	e, _ := rt.match(req.Method, req.Path, nil)
	if e == nil {
		return false
	}
	o, ok := e.h.(*offloader)
	return ok && o.stream
}

// slowSample: a worker times one plain request in slowSample against
// Config.SlowHandler. Two clock reads cost about 80ns on a VM, twice the
// rest of a dispatch; a handler that blocks its loop does so on most calls,
// so it is still caught within a few requests.
const slowSample = 8

// loopMux is one io_uring worker's entry to the router. Only that worker's
// thread calls it, so it counts requests without atomics.
type loopMux struct {
	rt *router
	n  uint32
}

func (m *loopMux) ServeHTTP(w *http1.Response, r *Request) {
	m.n++
	m.rt.serve((*Response)(w), r, m.n%slowSample == 1)
}

// ServeHTTP dispatches to the matching route, or answers 307, 404 or 405.
// Called concurrently (the netpoll engine), it times every plain request.
func (rt *router) ServeHTTP(w *http1.Response, r *Request) { rt.serve((*Response)(w), r, true) }

func (rt *router) serve(w *Response, r *Request, timed bool) {
	var spans http1.PathSpans
	e, exact := rt.match(r.Method, r.Path, &spans)
	if !exact && rt.slashEnds && rt.redirect(w, r) {
		return
	}
	if e == nil {
		rt.notFound(w, r)
		return
	}
	r.SetPathValues(e.pat.names, &spans)
	if !timed || !e.plain || rt.slow <= 0 {
		e.h.ServeHTTP(w, r)
		return
	}
	start := time.Since(rt.epoch)
	e.h.ServeHTTP(w, r)
	if d := time.Since(rt.epoch) - start; d >= rt.slow && !e.slowLogged.Load() && e.slowLogged.CompareAndSwap(false, true) {
		rt.log.Warn("uringd: a plain handler held its worker: every connection of that worker waited "+
			"(offload blocking work with uringd.Blocking or uringd.Offload); logged once per route",
			"pattern", e.pat.str, "duration", d, "threshold", rt.slow)
	}
}

// redirect answers 307 to path+"/" when the path does not end in '/' and
// path+"/" matches a pattern exactly ("/dir" to "/dir/"). 307 is what
// ServeMux answers (TestRouterPatternTable checks against it): unlike 301,
// it keeps the method and body. It does not allocate for paths up to the
// stack buffer's size.
func (rt *router) redirect(w *Response, r *Request) bool {
	path := r.Path
	if len(path) == 0 || path[len(path)-1] == '/' {
		return false
	}
	var stack [512]byte
	loc := append(append(stack[:0], path...), '/')
	if e, exact := rt.match(r.Method, loc, nil); e == nil || !exact {
		return false
	}
	if r.Query != nil {
		loc = append(append(loc, '?'), r.Query...)
	}
	w.SetStatus(307)
	if w.SetHeaderBytes("Location", loc) != nil {
		return false
	}
	return true
}

// notFound answers 405 with Allow when some pattern matches the path with
// another method, else 404.
func (rt *router) notFound(w *Response, r *Request) {
	w.SetContentType("text/plain; charset=utf-8")
	var stack [256]byte
	if allow := rt.allow(stack[:0], r.Path); len(allow) > 0 {
		w.SetStatus(405)
		_ = w.SetHeaderBytes("Allow", allow)
		_, _ = w.WriteString("Method Not Allowed\n")
		return
	}
	w.SetStatus(404)
	_, _ = w.WriteString("404 page not found\n")
}

// matching calls f for every entry whose pattern matches path, whatever its
// method.
func (rt *router) matching(path []byte, f func(*entry)) {
	if r := rt.exactRoute(path); r != nil {
		for _, e := range r.entries {
			f(e)
		}
	}
	for _, e := range rt.wild {
		if ok, _ := e.pat.match(path, nil); ok {
			f(e)
		}
	}
}

// allow appends to b the sorted methods of every pattern that matches path
// (HEAD with GET), comma-separated as ServeMux writes them.
func (rt *router) allow(b []byte, path []byte) []byte {
	var ms [16]string
	n := 0
	add := func(m string) {
		for i := 0; i < n; i++ {
			if ms[i] == m {
				return
			}
		}
		if n < len(ms) {
			ms[n] = m
			n++
		}
	}
	consider := func(e *entry) {
		add(e.pat.method)
		if e.pat.method == "GET" {
			add("HEAD")
		}
	}
	rt.matching(path, consider)
	// As ServeMux: the redirect "/dir" to "/dir/" would apply for a
	// method that "/dir/" has, so those methods are allowed too.
	if len(path) > 0 && path[len(path)-1] != '/' && rt.slashEnds {
		var stack [512]byte
		rt.matching(append(append(stack[:0], path...), '/'), consider)
	}
	for i := 1; i < n; i++ { // insertion sort: a handful, and no allocation
		for j := i; j > 0 && ms[j] < ms[j-1]; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, ms[i]...)
	}
	return b
}

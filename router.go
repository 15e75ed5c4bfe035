package uringd

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/uringd/uringd/http1"
)

// router maps a request's method and path to a Handler. Exact routes are
// looked up in a map; prefix routes are tried longest first. A path that
// matches a route whose methods exclude the request's method gets 405 with an
// Allow header (like net/http's ServeMux); a path that matches nothing gets
// 404. A route registered for GET also answers HEAD (the response writer
// drops the body). Lookups do not allocate.
//
// The router is immutable once the server serves: Handle after
// ListenAndServe panics (workers read it without locks).
type router struct {
	exact map[string]*route
	// few holds the exact routes while there are at most fewRoutes of
	// them: comparing a short path with a handful of patterns (length
	// first) costs less than hashing it for the map.
	few    []*route
	prefix []*route // sorted by len(pattern) descending
}

const fewRoutes = 8

// route is every handler registered for one pattern.
type route struct {
	pattern  string
	isPrefix bool
	methods  []methodHandler // "" matches any method
	allow    string          // value of the Allow header for 405
}

type methodHandler struct {
	method string
	h      Handler
}

func (rt *router) add(method, pattern string, isPrefix bool, h Handler) {
	if h == nil {
		panic("uringd: nil handler for " + pattern)
	}
	if pattern == "" || pattern[0] != '/' {
		panic(fmt.Sprintf("uringd: pattern %q must start with '/'", pattern))
	}
	if strings.ContainsAny(method, " \t\r\n") {
		panic(fmt.Sprintf("uringd: invalid method %q", method))
	}
	r := rt.find(pattern, isPrefix)
	if r == nil {
		r = &route{pattern: pattern, isPrefix: isPrefix}
		if isPrefix {
			rt.prefix = append(rt.prefix, r)
			sort.SliceStable(rt.prefix, func(i, j int) bool {
				return len(rt.prefix[i].pattern) > len(rt.prefix[j].pattern)
			})
		} else {
			if rt.exact == nil {
				rt.exact = make(map[string]*route)
			}
			rt.exact[pattern] = r
			rt.few = nil
			if len(rt.exact) <= fewRoutes {
				for _, r := range rt.exact {
					rt.few = append(rt.few, r)
				}
			}
		}
	}
	for _, m := range r.methods {
		if m.method == method {
			panic(fmt.Sprintf("uringd: %s %s registered twice", method, pattern))
		}
	}
	r.methods = append(r.methods, methodHandler{method, h})
	r.allow = allowHeader(r.methods)
}

func (rt *router) find(pattern string, isPrefix bool) *route {
	if !isPrefix {
		return rt.exact[pattern]
	}
	for _, r := range rt.prefix {
		if r.pattern == pattern {
			return r
		}
	}
	return nil
}

// allowHeader lists the methods of a route, sorted, with HEAD implied by GET.
// A route with an any-method handler never produces 405, so its Allow is "".
func allowHeader(ms []methodHandler) string {
	var names []string
	for _, m := range ms {
		if m.method == "" {
			return ""
		}
		names = append(names, m.method)
		if m.method == "GET" {
			names = append(names, "HEAD")
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return strings.Join(names, ", ")
}

// handler returns the handler for method and path, and the Allow value of the
// first route whose pattern matched the path (non-empty only when no method
// matched, so the caller answers 405; "" with a nil handler means 404).
func (rt *router) handler(method, path []byte) (h Handler, allow string) {
	matched := false
	if r := rt.exactRoute(path); r != nil {
		if h := r.lookup(method); h != nil {
			return h, ""
		}
		allow, matched = r.allow, true
	}
	for _, r := range rt.prefix {
		if len(path) < len(r.pattern) || string(path[:len(r.pattern)]) != r.pattern {
			continue
		}
		if h := r.lookup(method); h != nil {
			return h, ""
		}
		if !matched {
			allow, matched = r.allow, true
		}
	}
	return nil, allow
}

// streamsBody reports whether req, whose head is parsed and whose body is
// still to come, goes to a blocking handler that reads its body as it
// arrives (StreamingBody): the engines then hand it over at once.
func (rt *router) streamsBody(req *http1.Request) bool {
	h, _ := rt.handler(req.Method, req.Path)
	o, ok := h.(*offloader)
	return ok && o.stream
}

func (rt *router) exactRoute(path []byte) *route {
	if len(rt.exact) > fewRoutes {
		return rt.exact[string(path)]
	}
	for _, r := range rt.few {
		if r.pattern == string(path) {
			return r
		}
	}
	return nil
}

func (r *route) lookup(method []byte) Handler {
	var head Handler
	for i := range r.methods {
		m := &r.methods[i]
		switch {
		case m.method == "" || m.method == string(method):
			return m.h
		case m.method == "GET" && string(method) == "HEAD":
			head = m.h
		}
	}
	return head
}

// ServeHTTP dispatches to the matching route, or answers 404 / 405.
func (rt *router) ServeHTTP(w *Response, r *Request) {
	h, allow := rt.handler(r.Method, r.Path)
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	w.SetContentType("text/plain; charset=utf-8")
	if allow != "" {
		w.SetStatus(405)
		_ = w.SetHeader("Allow", allow)
		_, _ = w.WriteString("Method Not Allowed\n")
		return
	}
	w.SetStatus(404)
	_, _ = w.WriteString("404 page not found\n")
}

package http1

// MaxPathValues is the most wildcards one route pattern may have.
const MaxPathValues = 8

// PathSpans locates path values in Request.Path: value i is
// Path[s[i][0]:s[i][1]]. Offsets rather than views, so that Clone (which
// copies Path) keeps them right without fixing anything up.
type PathSpans [MaxPathValues][2]uint32

// pathValues is what the router matched: the pattern's wildcard names
// (shared with the route, never written) and where their values are.
type pathValues struct {
	names []string
	spans PathSpans
}

// SetPathValues records the wildcard names of the route that matched r and
// where their values lie in r.Path. The router calls it before the handler;
// names is kept (not copied) and must not change afterwards.
func (r *Request) SetPathValues(names []string, spans *PathSpans) {
	r.pv.names = names
	if len(names) > 0 {
		r.pv.spans = *spans
	}
}

// PathValue returns the value of the wildcard name in the pattern of the
// route that matched r ("GET /items/{id}": PathValue("id")), or nil if the
// pattern has no such wildcard. Like every Request field it is a view into
// r.Path, valid only during the handler call, with percent-escapes as sent
// (not decoded). It does not allocate; string(r.PathValue("id")) used in a
// comparison or a map index does not either.
func (r *Request) PathValue(name string) []byte {
	for i, n := range r.pv.names {
		if n == name {
			s := r.pv.spans[i]
			return r.Path[s[0]:s[1]:s[1]]
		}
	}
	return nil
}

// PathValueNames returns the wildcard names of the matched route's pattern,
// in order (nil when it has none). The slice is shared: do not modify it.
func (r *Request) PathValueNames() []string { return r.pv.names }

package uringd

import (
	"fmt"
	"go/token"
	"strings"

	"github.com/uringd/uringd/http1"
)

// A pattern is Go 1.22 net/http.ServeMux syntax without the host:
//
//	[METHOD ]/literal/{name}/{rest...}    or a trailing "/" (a subtree), or "/{$}"
//
// Segments are compared as sent: neither the pattern's literals nor the
// request path are percent-decoded (ServeMux decodes both). Paths are not
// cleaned either ("/a/../b" is not redirected to "/b").
type pattern struct {
	str    string // as registered, for messages
	loc    string // file:line of the registration, for conflict messages
	method string // "" matches every method
	segs   []segment
	names  []string // wildcard names in order; nil without wildcards
	// literal is the whole path when the pattern has no wildcard and is not a
	// subtree ("/a/b", "/a/{$}" as "/a/"): such patterns go to the exact table.
	literal string
	// prefix is the path up to the first wildcard or subtree segment ("/items/"
	// for "/items/{id}", "/" for "/{x}"), which covers the first nlit
	// segments: a path without it is rejected with one compare.
	prefix string
	nlit   int
}

type segment struct {
	s     string // literal text; the name of a wildcard
	wild  bool   // {name} (one segment) or, with multi, {name...} / a trailing slash
	multi bool   // matches the rest of the path, possibly empty
	end   bool   // {$}: the path ends here, right after a slash
}

func (p *pattern) last() segment { return p.segs[len(p.segs)-1] }

func parsePattern(s string) (*pattern, error) {
	if s == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	p := &pattern{str: s}
	rest := s
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		p.method, rest = s[:i], strings.TrimLeft(s[i+1:], " \t")
		if !validMethod(p.method) {
			return nil, fmt.Errorf("invalid method %q (methods are case-sensitive upper-case tokens: GET, POST, ...)", p.method)
		}
	}
	if rest == "" || rest[0] != '/' {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			return nil, fmt.Errorf("host %q in pattern: host patterns are not supported", rest[:i])
		}
		return nil, fmt.Errorf("path must start with '/'")
	}
	seen := map[string]bool{}
	for path := rest[1:]; ; {
		seg, tail, more := strings.Cut(path, "/")
		switch {
		case seg == "" && !more:
			// A trailing slash (or the root "/"): the subtree.
			p.segs = append(p.segs, segment{wild: true, multi: true})
		case seg == "":
			return nil, fmt.Errorf("empty segment (\"//\")")
		case seg[0] != '{' && !strings.ContainsAny(seg, "{}"):
			p.segs = append(p.segs, segment{s: seg})
		case seg[0] != '{' || seg[len(seg)-1] != '}' || strings.Count(seg, "{") != 1:
			return nil, fmt.Errorf("bad wildcard segment %q: a wildcard must be a whole segment, {name} or {name...}", seg)
		case seg == "{$}":
			if more {
				return nil, fmt.Errorf("{$} must be the last segment")
			}
			p.segs = append(p.segs, segment{end: true})
		default:
			name, multi := strings.CutSuffix(seg[1:len(seg)-1], "...")
			if !token.IsIdentifier(name) {
				return nil, fmt.Errorf("bad wildcard name %q: it must be a Go identifier", name)
			}
			if multi && more {
				return nil, fmt.Errorf("{%s...} must be the last segment", name)
			}
			if seen[name] {
				return nil, fmt.Errorf("duplicate wildcard name %q", name)
			}
			seen[name] = true
			p.segs = append(p.segs, segment{s: name, wild: true, multi: multi})
			p.names = append(p.names, name)
		}
		if !more {
			break
		}
		path = tail
	}
	if len(p.names) > http1.MaxPathValues {
		return nil, fmt.Errorf("more than %d wildcards", http1.MaxPathValues)
	}
	if !p.hasWild() {
		p.literal = rest
		if p.last().end {
			p.literal = strings.TrimSuffix(rest, "{$}")
		}
	}
	p.prefix = "/"
	for _, g := range p.segs {
		if g.wild || g.end {
			break
		}
		p.prefix += g.s + "/"
		p.nlit++
	}
	return p, nil
}

func (p *pattern) hasWild() bool {
	for _, g := range p.segs {
		if g.wild {
			return true
		}
	}
	return false
}

// validMethod accepts RFC 9110 tokens without lower-case letters: methods
// are case-sensitive, and a "get" route would never match a GET (ServeMux
// accepts it and then answers 405 with "Allow: get").
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c >= 'a' && c <= 'z' || c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// match reports whether path matches p's path (p is not literal-only), recording where each
// wildcard's value lies in spans (when spans is non-nil), and whether the
// match is exact: a subtree pattern matches exactly only the path of the
// subtree itself ("/a/" for "/a/"), which decides the trailing-slash
// redirect as in ServeMux. It does not allocate.
func (p *pattern) match(path []byte, spans *http1.PathSpans) (ok, exact bool) {
	if len(path) < len(p.prefix) || string(path[:len(p.prefix)]) != p.prefix {
		return false, false
	}
	// Only patterns with a wildcard or a subtree get here (the others are in
	// the router's exact table), so some segment follows the prefix.
	pos, nv := len(p.prefix), 0
	for i := p.nlit; i < len(p.segs); i++ {
		g := &p.segs[i]
		switch {
		case g.multi:
			if g.s != "" && spans != nil {
				spans[nv] = [2]uint32{uint32(pos), uint32(len(path))}
			}
			return true, pos == len(path)
		case g.end:
			return pos == len(path), true
		}
		end := pos
		for end < len(path) && path[end] != '/' {
			end++
		}
		if g.wild {
			if end == pos && end == len(path) {
				return false, false // {x} does not match the empty segment after a trailing slash
			}
			if spans != nil {
				spans[nv] = [2]uint32{uint32(pos), uint32(end)}
			}
			nv++
		} else if string(path[pos:end]) != g.s {
			return false, false
		}
		if i == len(p.segs)-1 {
			return end == len(path), true
		}
		if end == len(path) {
			return false, false
		}
		pos = end + 1
	}
	return false, false // unreachable: a pattern has a segment
}

// relationship is how the sets of requests two patterns match compare
// (net/http's pattern.go, whose rules this follows).
type relationship int

const (
	equivalent   relationship = iota // the same requests
	moreGeneral                      // a strict superset
	moreSpecific                     // a strict subset
	disjoint                         // no request in common
	overlaps                         // some in common, neither contains the other: a conflict
)

func inverse(r relationship) relationship {
	switch r {
	case moreGeneral:
		return moreSpecific
	case moreSpecific:
		return moreGeneral
	}
	return r
}

func combine(r1, r2 relationship) relationship {
	switch r1 {
	case equivalent:
		return r2
	case disjoint:
		return disjoint
	case overlaps:
		if r2 == disjoint {
			return disjoint
		}
		return overlaps
	}
	switch r2 {
	case equivalent:
		return r1
	case inverse(r1):
		return overlaps
	}
	return r2
}

func (p *pattern) compare(q *pattern) relationship {
	var m relationship
	switch {
	case p.method == q.method:
		m = equivalent
	case p.method == "":
		m = moreGeneral
	case q.method == "":
		m = moreSpecific
	case p.method == "GET" && q.method == "HEAD":
		m = moreGeneral
	case p.method == "HEAD" && q.method == "GET":
		m = moreSpecific
	default:
		return disjoint
	}
	if m == disjoint {
		return m
	}
	return combine(m, p.comparePaths(q))
}

func (p *pattern) comparePaths(q *pattern) relationship {
	if len(p.segs) != len(q.segs) && !p.last().multi && !q.last().multi {
		return disjoint
	}
	rel := equivalent
	s1, s2 := p.segs, q.segs
	for ; len(s1) > 0 && len(s2) > 0; s1, s2 = s1[1:], s2[1:] {
		if rel = combine(rel, compareSegments(s1[0], s2[0])); rel == disjoint {
			return rel
		}
	}
	switch {
	case len(s1) == 0 && len(s2) == 0:
		return rel
	case len(s1) < len(s2) && p.last().multi:
		return combine(rel, moreGeneral)
	case len(s2) < len(s1) && q.last().multi:
		return combine(rel, moreSpecific)
	}
	return disjoint
}

func compareSegments(a, b segment) relationship {
	switch {
	case a.multi && b.multi:
		return equivalent
	case a.multi:
		return moreGeneral
	case b.multi:
		return moreSpecific
	case a.wild && b.wild:
		return equivalent
	case a.wild:
		if b.end {
			return disjoint
		}
		return moreGeneral
	case b.wild:
		if a.end {
			return disjoint
		}
		return moreSpecific
	case a.end && b.end:
		return equivalent
	case a.end || b.end:
		return disjoint
	case a.s == b.s:
		return equivalent
	}
	return disjoint
}

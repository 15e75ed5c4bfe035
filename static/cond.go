package static

import (
	"bytes"
	"net/http"
	"time"
	"unsafe"
)

// reqHeaders are the request fields the file server reads, picked in one
// pass over the headers (Request.Header would scan once per name).
type reqHeaders struct {
	ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince []byte
	rng, ifRange                                             []byte
}

func (h *reqHeaders) pick(r *Request) {
	*h = reqHeaders{}
	for i := range r.Headers {
		n, v := r.Headers[i].Name, r.Headers[i].Value
		switch {
		case len(n) == 5 && eqFold(n, "range"):
			h.rng = v
		case len(n) == 8 && eqFold(n, "if-match"):
			h.ifMatch = v
		case len(n) == 8 && eqFold(n, "if-range"):
			h.ifRange = v
		case len(n) == 13 && eqFold(n, "if-none-match"):
			h.ifNoneMatch = v
		case len(n) == 17 && eqFold(n, "if-modified-since"):
			h.ifModifiedSince = v
		case len(n) == 19 && eqFold(n, "if-unmodified-since"):
			h.ifUnmodifiedSince = v
		}
	}
}

// validators are a representation's ETag and Last-Modified, as sent.
type validators struct {
	etag    string // quoted, strong
	lastMod string // IMF-fixdate
	modSec  int64  // Last-Modified in Unix seconds
}

// precondition is the outcome of RFC 9110 §13.2.2 for a GET or HEAD.
type precondition uint8

const (
	condOK          precondition = iota // send the representation (or a range of it)
	condNotModified                     // 304
	condFailed                          // 412
	condIgnoreRange                     // If-Range did not match: send all of it, 200
)

// evaluate applies RFC 9110 §13.2.2 in its order:
//  1. If-Match: false -> 412;
//  2. else If-Unmodified-Since: false -> 412;
//  3. If-None-Match: false -> 304 (GET/HEAD);
//  4. else If-Modified-Since: false -> 304;
//  5. Range with If-Range: false -> ignore Range.
func (h *reqHeaders) evaluate(v *validators) precondition {
	if h.ifMatch != nil {
		if !matchList(h.ifMatch, v.etag, false) {
			return condFailed
		}
	} else if h.ifUnmodifiedSince != nil {
		if t, ok := parseDate(h.ifUnmodifiedSince, v); ok && v.modSec > t {
			return condFailed
		}
	}
	if h.ifNoneMatch != nil {
		if matchList(h.ifNoneMatch, v.etag, true) {
			return condNotModified
		}
	} else if h.ifModifiedSince != nil {
		if t, ok := parseDate(h.ifModifiedSince, v); ok && v.modSec <= t {
			return condNotModified
		}
	}
	if h.rng != nil && h.ifRange != nil && !ifRangeMatches(h.ifRange, v) {
		return condIgnoreRange
	}
	return condOK
}

// matchList reports whether the field value (a list of entity tags, or "*")
// contains etag. weak selects the weak comparison (If-None-Match, §8.8.3.2:
// W/ prefixes are ignored); If-Match uses the strong one, where a weak tag
// never matches. No allocation: it walks the list in place.
func matchList(list []byte, etag string, weak bool) bool {
	list = bytes.TrimSpace(list)
	if len(list) == 1 && list[0] == '*' {
		return true
	}
	for len(list) > 0 {
		list = bytes.TrimLeft(list, " \t,")
		isWeak := false
		if len(list) >= 2 && list[0] == 'W' && list[1] == '/' {
			isWeak = true
			list = list[2:]
		}
		if len(list) == 0 || list[0] != '"' {
			return false // malformed: no match
		}
		end := bytes.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		tag := list[:end+2]
		list = list[end+2:]
		if string(tag) == etag && (weak || !isWeak) {
			return true
		}
	}
	return false
}

// ifRangeMatches: an entity tag must match strongly; a date must equal
// Last-Modified exactly (§13.1.5). Like net/http, our Last-Modified is taken
// as a strong validator.
func ifRangeMatches(v []byte, val *validators) bool {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' || len(v) > 1 && v[0] == 'W' && v[1] == '/' { // "Wed, ..." is a date
		return len(v) > 2 && v[0] == '"' && string(v) == val.etag
	}
	t, ok := parseDate(v, val)
	return ok && t == val.modSec
}

// parseDate parses an HTTP-date into Unix seconds. The common case — the
// client echoes our Last-Modified — is a byte comparison; anything else goes
// through net/http's parser (three formats, allocates: the rare path).
func parseDate(b []byte, v *validators) (int64, bool) {
	if string(b) == v.lastMod {
		return v.modSec, true
	}
	t, err := http.ParseTime(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

// httpDate formats t as an IMF-fixdate (RFC 9110 §5.6.7).
func httpDate(t time.Time) string {
	return t.UTC().Format(http.TimeFormat)
}

// eqFold compares ASCII case-insensitively; s is lower case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

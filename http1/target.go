package http1

import "bytes"

var slash = []byte("/")

// splitTarget checks that Target has one of the four forms of RFC 9112
// §3.2 and sets Path and Query from it:
//
//	origin-form    "/" path ["?" query]      Path, Query as sent
//	absolute-form  scheme "://" authority …  (to proxies) Path after the authority, "/" if none
//	authority-form host ":" port             (CONNECT only) Path = Target
//	asterisk-form  "*"                       (server-wide OPTIONS) Path = "*"
//
// Anything else is refused: a router handed "abc" as a path is a bug
// waiting to happen.
func splitTarget(req *Request) error {
	t := req.Target
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		req.Path = t
		return nil
	case string(req.Method) == "CONNECT":
		req.Path = t
		return nil
	default:
		rest, ok := cutScheme(t)
		if !ok {
			return errBadTarget
		}
		k := bytes.IndexAny(rest, "/?")
		if k < 0 {
			req.Path = slash
			return nil
		}
		t = rest[k:]
		if t[0] == '?' {
			req.Path = slash
			req.Query = t[1:]
			return nil
		}
	}
	// Short paths are the common case; a loop beats a call there.
	q := -1
	if len(t) <= 16 {
		for j, c := range t {
			if c == '?' {
				q = j
				break
			}
		}
	} else {
		q = bytes.IndexByte(t, '?')
	}
	if q >= 0 {
		req.Path = t[:q]
		req.Query = t[q+1:]
		return nil
	}
	req.Path = t
	return nil
}

// cutScheme removes scheme "://" from an absolute-form target, where
// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
func cutScheme(t []byte) (rest []byte, ok bool) {
	for j, c := range t {
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case j > 0 && c == ':':
			if bytes.HasPrefix(t[j:], []byte("://")) {
				return t[j+3:], true
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return nil, false
}

package static

import "github.com/uringd/uringd/http1"

// cleanName turns rel, the raw request path after the mount prefix (empty or
// starting with '/'), into the name of a file under the root: segments joined
// by '/', no leading slash, "" for the root itself. It percent-decodes once
// and refuses (ok == false) anything that could name a file outside the root
// or that a browser never sends:
//
//   - "." and ".." segments, raw or percent-encoded (%2e%2e): browsers
//     resolve dot segments before sending (RFC 3986 §5.2.4), so only an
//     attacker sends them;
//   - encoded '/' (%2f): it would split a segment after the ".." check;
//   - '\' raw or encoded (%5c): a separator on other systems;
//   - NUL and other control bytes, raw or encoded;
//   - malformed percent escapes.
//
// Empty segments ("a//b") are dropped, as nginx merges slashes. dir reports a
// trailing '/' (the client asked for a directory). The name is appended to
// dst[:0], so the hot path decodes into a reused buffer without allocating;
// when rel has no '%' and no empty segment the result is a copy of rel[1:].
func cleanName(dst, rel []byte) (name []byte, dir bool, ok bool) {
	name = dst[:0]
	dir = len(rel) == 0 || rel[len(rel)-1] == '/'
	i := 0
	for i < len(rel) {
		if rel[i] == '/' {
			i++
			continue
		}
		start := len(name)
		if start > 0 {
			name = append(name, '/')
			start++
		}
		for i < len(rel) && rel[i] != '/' {
			c := rel[i]
			if c == '%' {
				if i+2 >= len(rel) {
					return nil, false, false
				}
				hi, lo := http1.HexDigit(rel[i+1]), http1.HexDigit(rel[i+2])
				if hi < 0 || lo < 0 {
					return nil, false, false
				}
				c = byte(hi<<4 | lo)
				if c == '/' {
					return nil, false, false
				}
				i += 3
			} else {
				i++
			}
			if c < 0x20 || c == 0x7f || c == '\\' {
				return nil, false, false
			}
			name = append(name, c)
		}
		if seg := name[start:]; len(seg) <= 2 && (string(seg) == "." || string(seg) == "..") {
			return nil, false, false
		}
	}
	return name, dir, true
}

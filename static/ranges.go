package static

import (
	"bytes"
	"math"
)

// rangeKind is the outcome of parsing a Range field against a size.
type rangeKind uint8

const (
	rangeNone          rangeKind = iota // no usable Range: send everything (200)
	rangeOne                            // one satisfiable range: 206
	rangeUnsatisfiable                  // 416 with "Content-Range: bytes */size"
)

// parseRange reads a Range field value (RFC 9110 §14.1.1) for a
// representation of size bytes. Only a single range is answered with 206:
// "a-b" (b clamped to size-1), "a-" (to the end) and "-n" (the last n
// bytes). A list of several ranges is answered with the whole representation
// (200), which §14.2 allows and which saves building multipart/byteranges;
// a malformed value or another unit is ignored the same way (§14.2: a server
// MAY ignore Range). It does not allocate.
func parseRange(v []byte, size int64) (start, end int64, kind rangeKind) {
	v = bytes.TrimSpace(v)
	if len(v) < 6 || !eqFold(v[:6], "bytes=") {
		return 0, 0, rangeNone
	}
	spec := bytes.TrimSpace(v[6:])
	if bytes.IndexByte(spec, ',') >= 0 {
		return 0, 0, rangeNone
	}
	dash := bytes.IndexByte(spec, '-')
	if dash < 0 {
		return 0, 0, rangeNone
	}
	first, last := bytes.TrimSpace(spec[:dash]), bytes.TrimSpace(spec[dash+1:])
	if len(first) == 0 { // suffix: the last n bytes
		n, ok := parseDigits(last)
		if !ok {
			return 0, 0, rangeNone
		}
		if n == 0 || size == 0 {
			return 0, 0, rangeUnsatisfiable
		}
		return max(size-n, 0), size - 1, rangeOne
	}
	a, ok := parseDigits(first)
	if !ok {
		return 0, 0, rangeNone
	}
	b := size - 1
	if len(last) > 0 {
		if b2, ok := parseDigits(last); !ok || b2 < a {
			return 0, 0, rangeNone // "5-3" is invalid, not unsatisfiable (§14.1.1)
		} else if b2 < b {
			b = b2
		}
	}
	if a >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return a, b, rangeOne
}

// parseDigits parses a non-empty run of ASCII digits. A value past 18
// digits saturates at MaxInt64 rather than failing: "bytes=0-99999999999999999999"
// is a valid (clamped) range, not garbage.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for i, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 18 {
			n = n*10 + int64(c-'0')
		} else {
			n = math.MaxInt64
		}
	}
	return n, true
}

package http1

import (
	"bytes"
	"encoding/binary"
)

// The two versions we speak, as little-endian words for a one-compare match.
var (
	http11 = binary.LittleEndian.Uint64([]byte("HTTP/1.1"))
	http10 = binary.LittleEndian.Uint64([]byte("HTTP/1.0"))
	getSP  = binary.LittleEndian.Uint32([]byte("GET "))
)

// crlf16 is CR LF as a little-endian 16-bit word.
const crlf16 = '\r' | '\n'<<8

// hostColon is "Host:" as the low five bytes of a little-endian word.
const hostColon = 'H' | 'o'<<8 | 's'<<16 | 't'<<24 | ':'<<32

// ParseHead parses the request line and header section at the start of buf
// into req (picohttpparser's contract): it returns the number of bytes the
// head takes, ErrIncomplete when buf holds a valid prefix only, or an *Error.
// req's fields are views into buf; req.Headers is reused from its own
// capacity (at most lim.MaxHeaders entries). The framing fields
// (ContentLength, Chunked, Close, ...) are decided by the RFC 9112 rules in
// framing.go; the body is not looked at.
//
// prevLen is the length of buf at the previous call that returned
// ErrIncomplete for the same request, or 0. When it is set, buf is first
// searched for the end of the head only from where the last call stopped, so
// a head arriving in many small reads costs one parse, not one per read.
func ParseHead(buf []byte, prevLen int, req *Request, lim *Limits) (int, error) {
	if 0 < prevLen && prevLen <= len(buf) && len(buf) <= lim.MaxHeaderBytes && !mayEndHead(buf, prevLen) {
		return 0, ErrIncomplete
	}
	n, err := parseHead(buf, req, lim)
	if err == ErrIncomplete && len(buf) > lim.MaxHeaderBytes {
		return 0, errHeaderTooLarge
	}
	return n, err
}

// mayEndHead reports whether the bytes after prevLen may end the head or
// make it invalid, so a full parse is worth doing: an LF that ends an empty
// line ("\r\n\r\n", or a bare "\n\n" which the parse will refuse), or an LF
// without its CR. The search starts 2 bytes back, where such a sequence
// may have begun.
func mayEndHead(buf []byte, prevLen int) bool {
	for j := max(prevLen-2, 0); j < len(buf); j++ {
		k := bytes.IndexByte(buf[j:], '\n')
		if k < 0 {
			return false
		}
		j += k
		if j == 0 || buf[j-1] != '\r' {
			return true // bare LF
		}
		if j >= 2 && buf[j-2] == '\n' {
			return true // "\n\r\n": the empty line
		}
	}
	return false
}

func parseHead(buf []byte, req *Request, lim *Limits) (int, error) {
	req.reset()
	// RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF)
	// received before the request-line (clients sometimes send one after a
	// POST body). The header-size limit bounds how many.
	i := 0
	for i < len(buf) && buf[i] == '\r' {
		if i+1 >= len(buf) {
			return 0, incompleteAt(i, lim)
		}
		if buf[i+1] != '\n' {
			return 0, errBareCR
		}
		i += 2
	}
	i, err := parseRequestLine(buf, i, req, lim)
	if err != nil {
		return 0, err
	}
	var f framing
	i, err = parseFields(buf, i, req, lim, &f)
	if err != nil {
		return 0, err
	}
	if err := f.finish(req, lim); err != nil {
		return 0, err
	}
	return i, nil
}

// parseRequestLine parses method SP request-target SP HTTP-version CRLF
// (RFC 9112 §3) from buf[i:] and returns the index after the CRLF.
// Exactly one SP separates the parts: §3 allows a recipient to be lenient
// about whitespace, but every leniency is a chance to disagree with a proxy.
func parseRequestLine(buf []byte, i int, req *Request, lim *Limits) (int, error) {
	start := i
	if len(buf)-i >= 4 && binary.LittleEndian.Uint32(buf[i:]) == getSP {
		i += 3 // most requests are GETs: skip the token loop
	} else {
		i = scanToken(buf, i)
		if i >= len(buf) {
			return 0, incompleteAt(i, lim)
		}
		if buf[i] != ' ' || i == start {
			return 0, errBadMethod
		}
	}
	req.Method = buf[start:i]
	i++

	start = i
	i = scanTarget(buf, i)
	if i-start > lim.MaxURI {
		return 0, errURITooLong
	}
	if i >= len(buf) {
		return 0, incompleteAt(i, lim)
	}
	if buf[i] != ' ' {
		return 0, errTargetCTL
	}
	if i == start {
		return 0, errBadRequestLine
	}
	req.Target = buf[start:i]
	if err := splitTarget(req); err != nil {
		return 0, err
	}
	i++

	// "HTTP/1.1" CRLF, as nearly every request ends its line: what
	// parseVersion accepts first, without the call.
	if len(buf)-i >= 10 && binary.LittleEndian.Uint64(buf[i:]) == http11 &&
		binary.LittleEndian.Uint16(buf[i+8:]) == crlf16 {
		req.ProtoMinor = 1
		return i + 10, nil
	}
	return parseVersion(buf, i, req, lim)
}

// parseVersion parses HTTP-version CRLF at buf[i:], comparing "HTTP/1.x"
// as one word, and returns the index after the CRLF.
func parseVersion(buf []byte, i int, req *Request, lim *Limits) (int, error) {
	if len(buf)-i < 8 {
		if !bytes.HasPrefix([]byte("HTTP/1.1"), buf[i:]) &&
			!bytes.HasPrefix([]byte("HTTP/1.0"), buf[i:]) {
			if err := versionError(buf[i:]); err != ErrIncomplete {
				return 0, err
			}
		}
		return 0, incompleteAt(len(buf), lim)
	}
	switch binary.LittleEndian.Uint64(buf[i:]) {
	case http11:
		req.ProtoMinor = 1
	case http10:
		req.ProtoMinor = 0
	default:
		if err := versionError(buf[i:]); err != ErrIncomplete {
			return 0, err
		}
		return 0, incompleteAt(len(buf), lim)
	}
	i += 8
	switch {
	case i >= len(buf):
		return 0, incompleteAt(i, lim)
	case buf[i] == '\n':
		return 0, errBareLF
	case buf[i] != '\r':
		return 0, errBadVersion
	case i+1 >= len(buf):
		return 0, incompleteAt(i, lim)
	case buf[i+1] != '\n':
		return 0, errBareCR
	}
	return i + 2, nil
}

// versionError classifies a version that is not HTTP/1.0 or HTTP/1.1, or a
// prefix of one: a well-formed "HTTP/d.d" is a version we do not speak (505,
// RFC 9110 §15.6.6); anything else is a malformed request line.
func versionError(v []byte) error {
	const proto = "HTTP/"
	n := min(len(v), len(proto))
	if string(v[:n]) != proto[:n] {
		return errBadVersion
	}
	v = v[n:]
	if len(v) >= 4 && isDigit(v[0]) && v[1] == '.' && isDigit(v[2]) {
		switch v[3] {
		case '\r':
			return errVersion
		case '\n':
			return errBareLF
		}
	}
	// A prefix of "d.d\r": more bytes decide.
	if len(v) == 0 || len(v) == 1 && isDigit(v[0]) || len(v) == 2 && isDigit(v[0]) && v[1] == '.' ||
		len(v) == 3 && isDigit(v[0]) && v[1] == '.' && isDigit(v[2]) {
		return ErrIncomplete
	}
	return errBadVersion
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// incompleteAt is the result of running out of bytes at index i: more bytes
// may complete the head, unless it is already over the limit (431, RFC 6585 §5).
func incompleteAt(i int, lim *Limits) error {
	if i > lim.MaxHeaderBytes {
		return errHeaderTooLarge
	}
	return ErrIncomplete
}

// parseFields parses field lines (RFC 9112 §5) from buf[i:] up to and
// including the empty line, appending them to req.Headers and feeding the
// framing headers to f. It returns the index after the empty line.
func parseFields(buf []byte, i int, req *Request, lim *Limits, f *framing) (int, error) {
	maxHeaders := min(cap(req.Headers), lim.MaxHeaders)
	hs := req.Headers
	for {
		if i > lim.MaxHeaderBytes {
			return 0, errHeaderTooLarge
		}
		if i >= len(buf) {
			return 0, incompleteAt(i, lim)
		}
		if buf[i] <= ' ' {
			n, err := endOfFields(buf, i, lim)
			if err == nil {
				req.Headers = hs
			}
			return n, err
		}
		start := i
		// Every request has a Host line, first (RFC 9112 §3.2 asks user
		// agents to send it first), written "Host:": that name is a
		// token followed by its colon, so the token loop is skipped.
		if len(hs) == 0 && len(buf)-i >= 8 && binary.LittleEndian.Uint64(buf[i:])&(1<<40-1) == hostColon {
			i += 4
		} else {
			i = scanToken(buf, i)
			if i >= len(buf) {
				return 0, incompleteAt(i, lim)
			}
			if buf[i] != ':' {
				return 0, fieldNameError(buf[i])
			}
			if i == start {
				return 0, errEmptyFieldName
			}
		}
		name := buf[start:i]
		i++
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t') {
			i++
		}
		vstart := i
		i = scanValue(buf, i)
		if i+1 >= len(buf) {
			return 0, incompleteAt(i, lim)
		}
		if buf[i] != '\r' {
			if buf[i] == '\n' {
				return 0, errBareLF
			}
			return 0, errBadFieldValue
		}
		if buf[i+1] != '\n' {
			return 0, errBareCR
		}
		value := trimOWS(buf[vstart:i])
		i += 2
		n := len(hs)
		if n >= maxHeaders {
			return 0, errTooManyHeaders
		}
		// Field by field: building a Header on the stack and copying it
		// costs a store-forwarding stall per line.
		hs = hs[:n+1]
		h := &hs[n]
		h.Name = name
		h.Value = value
		if err := f.field(name, value); err != nil {
			return 0, err
		}
	}
}

// endOfFields handles a line that starts with SP or a control byte: the
// empty line that ends the head, or an error.
func endOfFields(buf []byte, i int, lim *Limits) (int, error) {
	switch buf[i] {
	case '\r':
		if i+1 >= len(buf) {
			return 0, incompleteAt(i, lim)
		}
		if buf[i+1] != '\n' {
			return 0, errBareCR
		}
		return i + 2, nil
	case '\n':
		return 0, errBareLF
	case ' ', '\t':
		// RFC 9112 §5.2: a server MUST reject obs-fold with 400 (or
		// unfold it); §2.2: whitespace before the first field line
		// MUST be rejected or the line ignored. We reject both.
		return 0, errObsFold
	}
	return 0, errBadFieldName
}

// fieldNameError explains the byte that ended a field name early.
// RFC 9112 §5.1: no whitespace is allowed between the field name and the
// colon; a server MUST reject such a message with 400.
func fieldNameError(c byte) error {
	switch c {
	case ' ', '\t':
		return errSpaceBeforeColon
	case '\r':
		return errNoColon
	case '\n':
		return errBareLF
	}
	return errBadFieldName
}

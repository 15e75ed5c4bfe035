package static

import "strconv"

// answer is what to send for a representation of size bytes, decided once
// (decide) and then written to either sink: the worker's *Response on the
// hot path (writeHead) or a blocking ResponseWriter (writeHeadHTTP).
type answer struct {
	status     int   // 200, 206, 304, 412 or 416
	start, end int64 // the body bytes, inclusive, for 200 and 206
	size       int64
}

func (a *answer) hasBody() bool { return a.status == 200 || a.status == 206 }

func (a *answer) length() int64 { return a.end - a.start + 1 }

// decide evaluates the preconditions (cond.go) and the Range field
// (ranges.go). It neither allocates nor makes a syscall.
func decide(hd *reqHeaders, v *validators, size int64) answer {
	a := answer{status: 200, start: 0, end: size - 1, size: size}
	cond := hd.evaluate(v)
	switch cond {
	case condNotModified:
		a.status = 304
		return a
	case condFailed:
		a.status = 412
		return a
	}
	if hd.rng == nil || cond == condIgnoreRange {
		return a
	}
	switch s, e, kind := parseRange(hd.rng, size); kind {
	case rangeUnsatisfiable:
		a.status = 416
	case rangeOne:
		a.status, a.start, a.end = 206, s, e
	}
	return a
}

// contentRange appends the Content-Range value of a 206 or 416.
func (a *answer) contentRange(b []byte) []byte {
	b = append(b, "bytes "...)
	if a.status == 416 {
		b = append(b, '*')
	} else {
		b = strconv.AppendInt(b, a.start, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, a.end, 10)
	}
	b = append(b, '/')
	return strconv.AppendInt(b, a.size, 10)
}

// Texts of the bodies of answers without the file.
const (
	text412 = "Precondition Failed\n"
	text416 = "Range Not Satisfiable\n"
)

// serveBytes answers from a representation held in memory (a cache entry):
// no allocation, no syscall.
func (h *Handler) serveBytes(w *Response, hd *reqHeaders, ctype string, rp *repr, body []byte) {
	a := decide(hd, &rp.validators, int64(len(body)))
	h.writeHead(w, &a, ctype, rp)
	if a.hasBody() {
		_, _ = w.Write(body[a.start : a.end+1])
	}
}

// writeHead writes the status and fields of a (and the short text body of
// 412 and 416) to the worker's Response. AddHeader, not SetHeader: each name
// is written once, and SetHeader would scan the fields so far to replace.
func (h *Handler) writeHead(w *Response, a *answer, ctype string, rp *repr) {
	w.SetStatus(a.status)
	if rp.vary { // on every answer about the file, 304 and errors too (§12.5.5)
		_ = w.AddHeader("Vary", "Accept-Encoding")
	}
	switch a.status {
	case 412:
		textBody(w, text412)
		return
	case 416:
		var cr [64]byte
		_ = w.SetHeaderBytes("Content-Range", a.contentRange(cr[:0]))
		textBody(w, text416)
		return
	case 206:
		var cr [64]byte
		_ = w.SetHeaderBytes("Content-Range", a.contentRange(cr[:0]))
	}
	if a.status != 304 {
		w.SetContentType(ctype)
		if rp.coding != "" {
			_ = w.AddHeader("Content-Encoding", rp.coding)
		}
		_ = w.AddHeader("Accept-Ranges", "bytes")
	}
	// What a 200 and a 304 share (RFC 9110 §15.4.5).
	_ = w.AddHeader("Last-Modified", rp.lastMod)
	_ = w.AddHeader("ETag", rp.etag)
	if h.cfg.CacheControl != "" {
		_ = w.AddHeader("Cache-Control", h.cfg.CacheControl)
	}
}

func textBody(w *Response, s string) {
	w.SetContentType("text/plain; charset=utf-8")
	_, _ = w.WriteString(s)
}

// plain answers status with a short text (404, 403, 405, 500).
func plain(w *Response, status int) {
	w.SetStatus(status)
	textBody(w, statusText(status))
}

func statusText(status int) string {
	switch status {
	case 403:
		return "403 Forbidden\n"
	case 404:
		return "404 page not found\n"
	case 405:
		return "Method Not Allowed\n"
	}
	return "500 Internal Server Error\n"
}

// dirLocation is the 301 target for a directory named without its slash:
// the request path plus "/", keeping the query, as net/http's FileServer
// does. Leading slashes are collapsed to one, so "//evil.example" cannot
// become a protocol-relative Location pointing at another host.
func dirLocation(r *Request) []byte {
	p := r.Path
	for len(p) > 1 && p[1] == '/' {
		p = p[1:]
	}
	loc := make([]byte, 0, len(p)+len(r.Query)+2)
	loc = append(loc, p...)
	loc = append(loc, '/')
	if r.Query != nil {
		loc = append(loc, '?')
		loc = append(loc, r.Query...)
	}
	return loc
}

func redirectDir(w *Response, r *Request) {
	w.SetStatus(301)
	if w.SetHeaderBytes("Location", dirLocation(r)) != nil {
		plain(w, 404) // cannot happen: the parser refuses control bytes in the target
		return
	}
	textBody(w, "Moved Permanently\n")
}

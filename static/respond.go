package static

import "strconv"

// serveBytes answers a GET or HEAD for a representation held in memory
// (a cache entry, or a small file just read): preconditions, then 304, 412,
// 416, 206 or 200. It neither allocates nor makes a syscall.
func (h *Handler) serveBytes(w *Response, hd *reqHeaders, ctype string, v *validators, body []byte) {
	start, end, status := h.plan(w, hd, ctype, v, int64(len(body)))
	if status == 0 {
		return
	}
	_, _ = w.Write(body[start : end+1])
}

// plan evaluates the preconditions and Range for a representation of size
// bytes, writes the status and headers, and returns the byte range to send
// as the body (inclusive; end < start for an empty body) with the status.
// status 0 means the response is complete (304, 412, 416): send no body.
func (h *Handler) plan(w *Response, hd *reqHeaders, ctype string, v *validators, size int64) (start, end int64, status int) {
	cond := hd.evaluate(v)
	switch cond {
	case condNotModified:
		w.SetStatus(304)
		h.validatorHeaders(w, v)
		return 0, -1, 0
	case condFailed:
		w.SetStatus(412)
		textBody(w, "Precondition Failed\n")
		return 0, -1, 0
	}
	start, end = 0, size-1
	status = 200
	if hd.rng != nil && cond != condIgnoreRange {
		a, b, kind := parseRange(hd.rng, size)
		switch kind {
		case rangeUnsatisfiable:
			w.SetStatus(416)
			var cr [48]byte
			_ = w.SetHeaderBytes("Content-Range", strconv.AppendInt(append(cr[:0], "bytes */"...), size, 10))
			textBody(w, "Range Not Satisfiable\n")
			return 0, -1, 0
		case rangeOne:
			start, end, status = a, b, 206
			w.SetStatus(206)
			var cr [64]byte
			_ = w.SetHeaderBytes("Content-Range", contentRange(cr[:0], a, b, size))
		}
	}
	w.SetContentType(ctype)
	_ = w.AddHeader("Accept-Ranges", "bytes")
	h.validatorHeaders(w, v)
	return start, end, status
}

// validatorHeaders writes what a 200 and a 304 share (RFC 9110 §15.4.5).
// AddHeader, not SetHeader: each name is written once, and SetHeader would
// scan the fields written so far for one to replace.
func (h *Handler) validatorHeaders(w *Response, v *validators) {
	_ = w.AddHeader("Last-Modified", v.lastMod)
	_ = w.AddHeader("ETag", v.etag)
	if h.cfg.CacheControl != "" {
		_ = w.AddHeader("Cache-Control", h.cfg.CacheControl)
	}
}

// contentRange appends "bytes a-b/size".
func contentRange(b []byte, a, e, size int64) []byte {
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, a, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, e, 10)
	b = append(b, '/')
	return strconv.AppendInt(b, size, 10)
}

func textBody(w *Response, s string) {
	w.SetContentType("text/plain; charset=utf-8")
	_, _ = w.WriteString(s)
}

func notFound(w *Response) {
	w.SetStatus(404)
	textBody(w, "404 page not found\n")
}

func forbidden(w *Response) {
	w.SetStatus(403)
	textBody(w, "403 Forbidden\n")
}

func serverError(w *Response) {
	w.SetStatus(500)
	textBody(w, "500 Internal Server Error\n")
}

// redirectDir answers 301 to the request path plus "/", keeping the query,
// as net/http's FileServer does for a directory named without its slash.
// Leading slashes are collapsed to one, so "//evil.example" cannot become
// a protocol-relative Location pointing at another host.
func redirectDir(w *Response, r *Request) {
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
	w.SetStatus(301)
	if w.SetHeaderBytes("Location", loc) != nil {
		notFound(w) // cannot happen: the parser refuses control bytes in the target
		return
	}
	textBody(w, "Moved Permanently\n")
}

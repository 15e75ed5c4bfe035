package static

import "golang.org/x/sys/unix"

// serveInline answers a cache miss on the calling goroutine. The server
// never gets here (misses are offloaded, see ServeHTTP); it serves direct
// ServeHTTP calls (tests, or a Handler wrapped in a non-uringd adapter),
// with the whole body in the Response.
func (h *Handler) serveInline(w *Response, r *Request, hd *reqHeaders, name string, dir bool) {
	res := h.resolve(name, dir)
	if res.status != 0 {
		h.answerStatus(w, r, res.status)
		return
	}
	if res.list {
		body, err := listing(res.fd, string(r.Path))
		if err != nil {
			plain(w, 500)
			return
		}
		w.SetContentType("text/html; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	defer unix.Close(res.fd)
	sib := h.findSiblings(res.file, res.info)
	defer sib.close()
	if h.cacheable(&res, sib) {
		e, err := h.fill(name, dir, &res, sib)
		if err != nil {
			plain(w, 500)
			return
		}
		rp, body := e.pick(r)
		h.serveBytes(w, hd, e.ctype, rp, body)
		return
	}
	fd, size, rp := pickFile(r, res.fd, res.info, sib)
	a := decide(hd, &rp.validators, size)
	h.writeHead(w, &a, contentType(res.file), &rp)
	if !a.hasBody() {
		return
	}
	buf := make([]byte, min(int64(h.cfg.ChunkSize), a.length()))
	for off := a.start; off <= a.end; {
		n := min(int64(len(buf)), a.end-off+1)
		if !r.IsHead() {
			if m, err := preadFull(fd, buf[:n], off); err != nil || int64(m) != n {
				w.SetClose() // the length is promised; cut the connection
				return
			}
		}
		_, _ = w.Write(buf[:n])
		off += n
	}
}

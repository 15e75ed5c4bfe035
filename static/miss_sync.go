package static

import (
	"golang.org/x/sys/unix"
)

// serveMiss answers a request the cache could not: resolve the name, fill
// the cache with a small file, or stream a large one.
//
// INTERIM: this runs on the worker thread (blocking open/stat/read) until
// the async-response API of issue 5 lands; then it moves to a goroutine.
func (h *Handler) serveMiss(w *Response, r *Request, hd *reqHeaders, name string, dir bool) {
	res := h.resolve(name, dir)
	if res.status != 0 {
		answerStatus(w, r, res.status)
		return
	}
	if res.list {
		body, err := listing(res.fd, string(r.Path))
		if err != nil {
			serverError(w)
			return
		}
		w.SetContentType("text/html; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	defer unix.Close(res.fd)
	if h.cache != nil && res.info.size <= h.cfg.MaxCachedFile {
		key := name
		if dir {
			key += "/"
		}
		e, err := newEntry(key, res.file, res.fd, res.info)
		if err != nil {
			serverError(w)
			return
		}
		h.cache.put(e)
		h.serveBytes(w, hd, e.ctype, &e.val, e.body)
		return
	}
	v := validatorsOf(res.info)
	start, end, status := h.plan(w, hd, contentType(res.file), &v, res.info.size)
	if status == 0 {
		return
	}
	buf := make([]byte, min(int64(h.cfg.ChunkSize), end-start+1))
	for off := start; off <= end; {
		n := min(int64(len(buf)), end-off+1)
		if !r.IsHead() {
			if m, err := preadFull(res.fd, buf[:n], off); err != nil || int64(m) != n {
				w.SetClose() // the length is promised; cut the connection
				return
			}
		}
		_, _ = w.Write(buf[:n])
		off += n
	}
}

package static

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/uringd/uringd"
	"golang.org/x/sys/unix"
)

// blockingHandler answers cache misses on the server's blocking pool
// (uringd.Offload): opening, stat, reading into the cache, listing and
// streaming all block, so none of it runs on a worker. A large file is read
// ChunkSize bytes at a time and each chunk written to the ResponseWriter,
// whose writes block while the connection has more than
// uringd.Config.MaxPendingOutput unsent: a slow client holds at most that
// much memory (plus one chunk), never the file.
type blockingHandler struct{ h *Handler }

func (b blockingHandler) ServeBlocking(ctx context.Context, w uringd.ResponseWriter, r *Request) {
	h := b.h
	name, dir, status := h.route(r, nil)
	if status != 0 {
		h.answerStatusHTTP(w, r, status)
		return
	}
	var hd reqHeaders
	hd.pick(r)
	res := h.resolve(string(name), dir)
	if res.status != 0 {
		h.answerStatusHTTP(w, r, res.status)
		return
	}
	if res.list {
		body, err := listing(res.fd, string(r.Path))
		if err != nil {
			h.answerStatusHTTP(w, r, 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	defer unix.Close(res.fd)
	sib := h.findSiblings(res.file, res.info)
	defer sib.close()
	if h.cacheable(&res, sib) {
		e, err := h.fill(string(name), dir, &res, sib)
		if err != nil {
			h.answerStatusHTTP(w, r, 500)
			return
		}
		rp, body := e.pick(r)
		a := decide(&hd, &rp.validators, int64(len(body)))
		h.writeHeadHTTP(w, &a, e.ctype, rp)
		if a.hasBody() {
			_, _ = w.Write(body[a.start : a.end+1])
		}
		return
	}
	fd, size, rp := pickFile(r, res.fd, res.info, sib)
	a := decide(&hd, &rp.validators, size)
	h.writeHeadHTTP(w, &a, contentType(res.file), &rp)
	if a.hasBody() && !r.IsHead() && !h.sendFile(w, fd, &a) {
		h.stream(ctx, w, fd, &a)
	}
}

// sendFile sends the answer's byte range of fd with the ResponseWriter's
// ReadFrom: sendfile(2) on the io_uring and netpoll engines, so the file's
// pages go from the page cache to the socket and the server holds none of
// them. false: it could not (no ReaderFrom, or dup failed) and nothing was
// sent; the caller streams through a buffer instead.
func (h *Handler) sendFile(w uringd.ResponseWriter, fd int, a *answer) bool {
	rf, ok := w.(io.ReaderFrom)
	if !ok {
		return false
	}
	d, err := unix.Dup(fd) // an *os.File of its own: closing it leaves fd to its owner
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(d), "static")
	defer f.Close()
	n, _ := rf.ReadFrom(io.NewSectionReader(f, a.start, a.end-a.start+1))
	h.streamed.Add(n)
	return true
}

// chunks recycles the streaming buffers (ChunkSize bytes each).
var chunks sync.Pool

// stream copies the answer's byte range from fd to w in ChunkSize reads.
// It stops when the client is gone (ctx, or a failed Write) or the file
// shrank; the response then falls short of its Content-Length and the
// ResponseWriter closes the connection after it.
func (h *Handler) stream(ctx context.Context, w uringd.ResponseWriter, fd int, a *answer) {
	bp, _ := chunks.Get().(*[]byte)
	if bp == nil || len(*bp) != h.cfg.ChunkSize {
		b := make([]byte, h.cfg.ChunkSize)
		bp = &b
	}
	defer chunks.Put(bp)
	buf := *bp
	for off := a.start; off <= a.end; {
		if ctx.Err() != nil {
			return
		}
		n := min(int64(len(buf)), a.end-off+1)
		m, err := preadFull(fd, buf[:n], off)
		if m > 0 {
			h.streamed.Add(int64(m))
			if _, werr := w.Write(buf[:m]); werr != nil {
				return
			}
		}
		if err != nil {
			h.log.Warn("static: read failed while streaming", "err", err)
			return
		}
		off += int64(m)
	}
}

// writeHeadHTTP is writeHead for a ResponseWriter: the same fields, with
// Content-Length set so that the body is sent with identity framing.
func (h *Handler) writeHeadHTTP(w http.ResponseWriter, a *answer, ctype string, rp *repr) {
	hdr := w.Header()
	if rp.vary {
		hdr.Set("Vary", "Accept-Encoding")
	}
	switch a.status {
	case 412:
		plainHTTP(w, 412, text412)
		return
	case 416:
		hdr.Set("Content-Range", string(a.contentRange(nil)))
		plainHTTP(w, 416, text416)
		return
	case 206:
		hdr.Set("Content-Range", string(a.contentRange(nil)))
	}
	if a.status != 304 {
		hdr.Set("Content-Type", ctype)
		if rp.coding != "" {
			hdr.Set("Content-Encoding", rp.coding)
		}
		hdr.Set("Accept-Ranges", "bytes")
		hdr.Set("Content-Length", strconv.FormatInt(a.length(), 10))
	}
	hdr.Set("Last-Modified", rp.lastMod)
	hdr["ETag"] = []string{rp.etag} // exact case, as the hit path writes it
	if h.cfg.CacheControl != "" {
		hdr.Set("Cache-Control", h.cfg.CacheControl)
	}
	w.WriteHeader(a.status)
}

func plainHTTP(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// answerStatusHTTP is answerStatus for a ResponseWriter.
func (h *Handler) answerStatusHTTP(w http.ResponseWriter, r *Request, status int) {
	switch status {
	case 404:
		if h.notFound != nil {
			w.Header().Set("Content-Type", h.notFoundType)
			w.Header().Set("Content-Length", strconv.Itoa(len(h.notFound)))
			w.WriteHeader(404)
			_, _ = w.Write(h.notFound)
			return
		}
		plainHTTP(w, 404, statusText(404))
	case 301:
		w.Header().Set("Location", string(dirLocation(r)))
		plainHTTP(w, 301, "Moved Permanently\n")
	case 405:
		w.Header().Set("Allow", "GET, HEAD")
		plainHTTP(w, 405, statusText(405))
	default:
		plainHTTP(w, status, statusText(status))
	}
}

package static

import (
	"time"

	"golang.org/x/sys/unix"
)

// revalidator re-checks every cached file each Config.Revalidate, on its
// own goroutine, so the workers never stat on the hit path. One fstatat per
// entry per period is the cost; a file that changed is re-read here (so the next
// hit is already fresh) or dropped when it vanished or grew past
// MaxCachedFile.
//
// Why not inotify: it needs a watch per directory, has a per-user limit,
// and misses changes behind symlinks and on network filesystems; a periodic
// stat is simple and bounded (nginx's open_file_cache_valid works the same
// way).
func (h *Handler) revalidator() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.Revalidate)
	defer t.Stop()
	var snap []*entry
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			snap = h.revalidate(snap)
		}
	}
}

// Revalidate checks every cached file now (the revalidator does it every
// Config.Revalidate); after it returns, a change made before the call is
// served.
func (h *Handler) Revalidate() {
	if h.cache != nil {
		h.revalidate(nil)
	}
}

func (h *Handler) revalidate(snap []*entry) []*entry {
	snap = h.cache.snapshot(snap)
	for i, e := range snap {
		h.refresh(e)
		snap[i] = nil // let evicted entries go
	}
	return snap[:0]
}

// refresh compares one entry with the disk and replaces or drops it. The
// common case, unchanged, costs one fstatat; a change is re-read through
// the contained open. The siblings of a precompressed file are checked
// the same way.
func (h *Handler) refresh(e *entry) {
	if fi, err := h.root.statQuick(e.file); err == nil && fi.same(e.info) && e.sib.unchanged(h.root) {
		return
	}
	fd, fi, err := h.root.open(e.file)
	if err != nil {
		h.cache.remove(e)
		return
	}
	defer unix.Close(fd)
	sib := h.findSiblings(e.file, fi)
	defer sib.close()
	if fi.same(e.info) && sameSiblings(e.sib, sib) {
		return
	}
	if !fi.isReg || fi.size > h.cfg.MaxCachedFile || !sib.fits(h.cfg.MaxCachedFile) {
		h.cache.remove(e)
		return
	}
	ne, err := newEntry(e.key, e.file, fd, fi, sib)
	if err != nil {
		h.cache.remove(e)
		return
	}
	h.cache.replace(e, ne)
}

// sameSiblings reports whether the siblings opened now are those cached.
func sameSiblings(cached *siblings, now *found) bool {
	if cached == nil || now == nil {
		return cached == nil && now == nil
	}
	for c := range numCodings {
		if !cached.s[c].seen.same(now.s[c].seen) || cached.s[c].ok != now.s[c].ok {
			return false
		}
	}
	return true
}

package static

import (
	"errors"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// openResult is a resolved request: the open file (fd >= 0) or the answer
// that replaces it (status != 0).
type openResult struct {
	fd     int
	info   fileInfo
	file   string // name of the file opened (name, or name/index)
	status int    // 301 (directory without slash), 403, 404, 500, or 0
	list   bool   // a directory to list (fd is the directory)
}

// resolve opens what the clean name refers to: a regular file, a
// directory's index, or (Listing) the directory itself. It makes blocking
// syscalls: it runs on the blocking pool, not on the worker.
func (h *Handler) resolve(name string, dir bool) openResult {
	fd, fi, err := h.root.open(name)
	if err != nil {
		return openResult{fd: -1, status: errStatus(err)}
	}
	if fi.isReg {
		if dir { // "file.txt/": no such directory
			unix.Close(fd)
			return openResult{fd: -1, status: 404}
		}
		return openResult{fd: fd, info: fi, file: name}
	}
	if !dir {
		unix.Close(fd)
		return openResult{fd: -1, status: 301}
	}
	index := h.cfg.Index
	if name != "" {
		index = name + "/" + index
	}
	ifd, ifi, err := h.root.open(index)
	if err == nil && ifi.isReg {
		unix.Close(fd)
		return openResult{fd: ifd, info: ifi, file: index}
	}
	if err == nil {
		unix.Close(ifd) // index.html is a directory: treat as absent
		err = errNotFound
	}
	if h.cfg.Listing && errors.Is(err, errNotFound) {
		return openResult{fd: fd, info: fi, file: name, list: true}
	}
	unix.Close(fd)
	return openResult{fd: -1, status: errStatus(err)}
}

func errStatus(err error) int {
	switch {
	case errors.Is(err, errNotFound):
		return 404
	case errors.Is(err, errForbidden):
		return 403
	}
	return 500
}

// cacheable reports whether a resolved file (and its served siblings, f)
// goes into the cache.
func (h *Handler) cacheable(res *openResult, f *found) bool {
	return h.cache != nil && !res.list && res.info.size <= h.cfg.MaxCachedFile && f.fits(h.cfg.MaxCachedFile)
}

// fill reads a small file (and its siblings) and publishes it in the cache.
func (h *Handler) fill(name string, dir bool, res *openResult, f *found) (*entry, error) {
	key := name
	if dir {
		key += "/"
	}
	e, err := newEntry(key, res.file, res.fd, res.info, f)
	if err != nil {
		h.log.Warn("static: read failed", "file", res.file, "err", err)
		return nil, err
	}
	h.cache.put(e)
	return e, nil
}

// newEntry reads a small file and its served siblings whole and prepares
// its cache entry. A file that changed size while being read is reported as
// an error (the next request retries).
func newEntry(key, file string, fd int, fi fileInfo, f *found) (*entry, error) {
	body, err := readWhole(fd, fi.size)
	if err != nil {
		return nil, err
	}
	sib, err := f.read()
	if err != nil {
		return nil, err
	}
	e := &entry{
		key:   key,
		file:  file,
		info:  fi,
		ctype: contentType(file),
		val:   repr{validators: validatorsOf(fi, ""), vary: f.any()},
		body:  body,
		sib:   sib,
		size:  int64(len(body)),
	}
	if sib != nil {
		for c := range numCodings {
			e.size += int64(len(sib.s[c].body))
		}
	}
	return e, nil
}

// readWhole reads the size bytes of a file the caller has just stat'ed.
func readWhole(fd int, size int64) ([]byte, error) {
	body := make([]byte, size)
	if n, err := preadFull(fd, body, 0); err != nil {
		return nil, err
	} else if n != len(body) {
		return nil, errors.New("static: file changed while read")
	}
	return body, nil
}

// validatorsOf makes the ETag and Last-Modified of a file. The ETag is
// "size-mtime" in hex, like nginx's (which uses seconds; nanoseconds here,
// so two writes within a second get different tags). A precompressed
// sibling's tag is made of its own size and mtime and ends in "-" + its
// coding, so it never equals the original's or another coding's (RFC 9110
// §8.8.3: each representation its own tag).
func validatorsOf(fi fileInfo, coding string) validators {
	etag := make([]byte, 0, 48)
	etag = append(etag, '"')
	etag = strconv.AppendInt(etag, fi.size, 16)
	etag = append(etag, '-')
	etag = strconv.AppendInt(etag, fi.mtime, 16)
	if coding != "" {
		etag = append(etag, '-')
		etag = append(etag, coding...)
	}
	etag = append(etag, '"')
	sec := fi.mtime / 1e9
	return validators{
		etag:    string(etag),
		lastMod: httpDate(time.Unix(sec, 0)),
		modSec:  sec,
	}
}

// answerStatus writes an answer without a file (route or resolve refused).
func (h *Handler) answerStatus(w *Response, r *Request, status int) {
	switch status {
	case 404:
		h.notFoundPage(w)
	case 301:
		redirectDir(w, r)
	case 405:
		w.SetStatus(405)
		_ = w.SetHeader("Allow", "GET, HEAD")
		textBody(w, statusText(405))
	default:
		plain(w, status)
	}
}

package static

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Precompressed files (Config.Precompressed), as nginx's gzip_static and
// brotli_static serve them: "f.css.br", "f.css.zst" and "f.css.gz" beside
// "f.css" are sent, byte for byte, to clients whose Accept-Encoding takes
// them (encoding.go), with Content-Encoding, the original's Content-Type, an
// ETag of their own and Vary: Accept-Encoding on every answer about a file
// that has one. Ranges and conditionals apply to the encoded bytes, since the
// encoded file is the representation sent (RFC 9110 §8.8.3, §14.1).
//
// The sibling's name is the resolved file's clean name (the request's, or a
// directory's index) plus the suffix, opened like any file beneath the root:
// the request cannot choose it. A sibling is served only if
//   - the original exists ("f.css.gz" alone never answers "/f.css"), and
//   - it is a regular file, and
//   - it is not older than the original, in whole seconds. Unlike nginx,
//     which never looks at the original: a sibling left behind by an edit
//     would send different content to different clients under one URL, a
//     bug nobody sees; refusing it costs bandwidth only. Seconds, because
//     compressors copy the original's mtime to the sibling (gzip, zstd and
//     brotli do by default) and some copy whole seconds only.

// repr is one representation as sent: its validators, its content coding
// ("" for the file itself) and whether the file has others (Vary).
type repr struct {
	validators
	coding string
	vary   bool
}

// sibling is one candidate sibling of a cached file.
type sibling struct {
	file string   // the original's name + codings[c].ext
	seen fileInfo // what was there when read (zero: nothing); the revalidator compares
	ok   bool     // served (see above); rep and body are set
	rep  repr
	body []byte
}

// siblings are a cached file's candidates; immutable once published.
type siblings struct {
	s     [numCodings]sibling
	avail uint8 // bit 1<<c set when s[c].ok
}

// found is the siblings of a file as opened on a miss, with the
// descriptors of those served (fd -1 otherwise). The caller closes it.
type found struct {
	siblings
	fd [numCodings]int
}

// findSiblings opens the candidate siblings of file (orig is the
// original's stat). It returns nil when Config.Precompressed is off. It
// blocks: misses and the revalidator only.
func (h *Handler) findSiblings(file string, orig fileInfo) *found {
	if !h.cfg.Precompressed {
		return nil
	}
	f := &found{fd: [numCodings]int{-1, -1, -1}}
	for c := range numCodings {
		s := &f.s[c]
		s.file = file + codings[c].ext
		fd, fi, err := h.root.open(s.file)
		if err != nil {
			// Record what a plain stat sees (a directory, a symlink out
			// of the root...), so the revalidator does not take the
			// refused sibling for a change every period.
			if !errors.Is(err, errNotFound) && !errors.Is(err, errForbidden) {
				h.log.Warn("static: cannot open precompressed sibling", "file", s.file, "err", err)
			}
			s.seen, _ = h.root.statQuick(s.file)
			continue
		}
		s.seen = fi
		if !fi.isReg || fi.mtime/1e9 < orig.mtime/1e9 {
			unix.Close(fd)
			continue
		}
		s.ok, f.fd[c] = true, fd
		f.avail |= 1 << c
		s.rep = repr{validators: validatorsOf(fi, codings[c].token), coding: codings[c].token, vary: true}
	}
	return f
}

// close closes the descriptors of the served siblings. f may be nil.
func (f *found) close() {
	if f == nil {
		return
	}
	for c, fd := range f.fd {
		if fd >= 0 {
			unix.Close(fd)
			f.fd[c] = -1
		}
	}
}

// any reports whether a sibling is served (the answer varies).
func (f *found) any() bool { return f != nil && f.avail != 0 }

// fits reports whether every served sibling is small enough to cache.
func (f *found) fits(limit int64) bool {
	if f == nil {
		return true
	}
	for c := range numCodings {
		if f.s[c].ok && f.s[c].seen.size > limit {
			return false
		}
	}
	return true
}

// read makes the cached copy of f: the served siblings' bodies read whole.
func (f *found) read() (*siblings, error) {
	if f == nil {
		return nil, nil
	}
	s := &siblings{avail: f.avail}
	for c := range numCodings {
		s.s[c] = f.s[c]
		if !s.s[c].ok {
			continue
		}
		body, err := readWhole(f.fd[c], s.s[c].seen.size)
		if err != nil {
			return nil, err
		}
		s.s[c].body = body
	}
	return s, nil
}

// unchanged reports whether a plain stat of every candidate still sees what
// was there when the entry was read: a sibling added, removed or rewritten
// makes the revalidator re-read the entry. s may be nil (one cost: three
// fstatat per cached file and period when Precompressed is on).
func (s *siblings) unchanged(r *root) bool {
	if s == nil {
		return true
	}
	for c := range numCodings {
		fi, _ := r.statQuick(s.s[c].file)
		if !fi.same(s.s[c].seen) {
			return false
		}
	}
	return true
}

// pick returns the representation of e to send for r and its bytes. The
// Accept-Encoding walk runs only for files that have a served sibling. It
// does not allocate.
func (e *entry) pick(r *Request) (*repr, []byte) {
	if e.sib != nil && e.sib.avail != 0 {
		if c := chooseCoding(r, e.sib.avail); c != identity {
			s := &e.sib.s[c]
			return &s.rep, s.body
		}
	}
	return &e.val, e.body
}

// pickFile is pick for a file that is not cached: the descriptor, size and
// representation to send. f may be nil.
func pickFile(r *Request, fd int, fi fileInfo, f *found) (int, int64, repr) {
	rp := repr{validators: validatorsOf(fi, ""), vary: f.any()}
	if !f.any() {
		return fd, fi.size, rp
	}
	if c := chooseCoding(r, f.avail); c != identity {
		return f.fd[c], f.s[c].seen.size, f.s[c].rep
	}
	return fd, fi.size, rp
}

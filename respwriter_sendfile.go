package uringd

import (
	"errors"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/uringd/uringd/http1"
)

// ReadFrom sends src (io.ReaderFrom), a file, without copying it through
// user space where the connection allows it: sendfile(2) from the page
// cache to the socket, as net/http's response does. io.Copy(w, f) and
// http.ServeContent use it. It applies to an *os.File, an *io.LimitedReader
// of one, or an *io.SectionReader over one, once the response has a
// Content-Length that the file's bytes fit (http.ServeContent sets it; a
// response without one is chunked and copied, as is any other reader, a
// HEAD response, and a connection that cannot take raw file bytes).
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if rw.finished.Load() {
		return 0, errAfterReturn
	}
	if !rw.wroteHeader {
		rw.WriteHeader(200)
	}
	f, off, n, advance := fileSpan(src)
	if f == nil || !rw.canSendFile(n) {
		return io.Copy(writerOnly{rw}, src)
	}
	if !rw.committed {
		rw.commit(false, nil)
	}
	rw.flushOut()
	if rw.err != nil {
		return 0, rw.err
	}
	sent, err := rw.s.SendFile(f, off, n)
	if errors.Is(err, errors.ErrUnsupported) {
		return io.Copy(writerOnly{rw}, src) // nothing was sent: src is where it was
	}
	rw.written += sent
	advance(sent)
	if err != nil {
		rw.err = err
	}
	return sent, err
}

// canSendFile: the next n body bytes may go out raw: identity framing with
// room for them in the declared length, and a body to send.
func (rw *responseWriter) canSendFile(n int64) bool {
	if rw.err != nil || rw.isHE || !http1.BodyAllowed(rw.status) || n <= 0 {
		return false
	}
	if rw.committed {
		return rw.sf == http1.StreamLength && rw.written+n <= rw.clen
	}
	if te := rw.hdr.Get("Transfer-Encoding"); te != "" {
		return false
	}
	return rw.clen >= 0 && rw.written+n <= rw.clen
}

// file is what an *os.File offers and ReadFrom needs: also the wrapper
// that os.File.WriteTo hands io.Copy when it could not send the file
// itself (it embeds the *os.File), which is how io.Copy(w, f) arrives.
type file interface {
	syscall.Conn
	io.Seeker
	Stat() (os.FileInfo, error)
}

// fileSpan finds the file behind src and the span of it that src would
// read: the file, the offset, the length, and how to move src past what
// was sent. f is nil when src is no file.
func fileSpan(src io.Reader) (f syscall.Conn, off, n int64, advance func(int64)) {
	switch r := src.(type) {
	case file:
		if off, n, ok := fileRest(r, -1); ok {
			return r, off, n, func(m int64) { r.Seek(off+m, io.SeekStart) }
		}
	case *io.LimitedReader:
		if of, ok := r.R.(file); ok {
			if off, n, ok := fileRest(of, r.N); ok {
				return of, off, n, func(m int64) { of.Seek(off+m, io.SeekStart); r.N -= m }
			}
		}
	case *io.SectionReader:
		outer, base, size := r.Outer()
		of, ok := outer.(syscall.Conn)
		if !ok {
			break
		}
		if _, isFile := outer.(*os.File); !isFile {
			break
		}
		cur, err := r.Seek(0, io.SeekCurrent)
		if err != nil || cur >= size {
			break
		}
		return of, base + cur, size - cur, func(m int64) { r.Seek(cur+m, io.SeekStart) }
	}
	return nil, 0, 0, nil
}

// fileRest is the offset of f and the length from there to its end,
// bounded by limit (-1: none); false for a file without a size (a pipe).
func fileRest(f file, limit int64) (off, n int64, ok bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, 0, false
	}
	off, err = f.Seek(0, io.SeekCurrent)
	if err != nil || off >= fi.Size() {
		return 0, 0, false
	}
	n = fi.Size() - off
	if limit >= 0 {
		n = min(n, limit)
	}
	return off, n, true
}

// writerOnly hides ReadFrom, so that io.Copy's fallback does not call it again.
type writerOnly struct{ io.Writer }

var _ io.ReaderFrom = (*responseWriter)(nil)
var _ http.ResponseWriter = (*responseWriter)(nil)

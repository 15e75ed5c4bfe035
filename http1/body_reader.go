package http1

import (
	"fmt"
	"io"
)

// BodyReader reads a request body as its bytes arrive, decoding its framing
// (Content-Length or chunked, RFC 9112 §6.3) on the way, so that a body
// need not fit in memory: it holds one window of wire bytes at a time. The
// bytes that follow the body on the connection (a pipelined request) are
// kept for the caller: Rest.
//
// It is used by one goroutine, the one reading the body. fill supplies wire
// bytes: it appends at least one byte to dst and returns it, blocking until
// some arrive, or appends nothing and returns an error (io.EOF: the client
// closed).
type BodyReader struct {
	fill    func(dst []byte) ([]byte, error)
	chunked bool
	left    int64 // Content-Length framing: body bytes still to read
	dec     ChunkedDecoder

	// buf holds wire bytes. Content-Length: buf[r:] are not read yet.
	// Chunked: decoded in place; buf[:dec.Decoded()] is body, of which
	// buf[:r] was returned already.
	buf  []byte
	r    int
	rest []byte // after the end: the wire bytes that followed the body
	done bool
	err  error
}

// ErrBodyTruncated: the connection ended before the body did. It wraps
// io.ErrUnexpectedEOF.
var ErrBodyTruncated = fmt.Errorf("http1: request body truncated: %w", io.ErrUnexpectedEOF)

// NewBodyReader reads the body of req (whose head is parsed: ContentLength
// or Chunked say how the body is framed) from what fill supplies. The body
// is bounded by lim.StreamMax(), the trailer section by lim.MaxHeaderBytes.
// dec, if not nil, is a chunked decoder that already decoded the start of
// the body in place (Parser.ReleaseBody): fill must then first supply
// exactly the bytes dec decoded, as they are now.
func NewBodyReader(req *Request, lim *Limits, dec *ChunkedDecoder, fill func(dst []byte) ([]byte, error)) *BodyReader {
	b := &BodyReader{fill: fill, chunked: req.Chunked, left: max(req.ContentLength, 0)}
	switch {
	case b.chunked && dec != nil:
		b.dec = *dec
		b.dec.MaxBody = lim.StreamMax()
	case b.chunked:
		b.dec.Reset(lim.StreamMax(), lim.MaxHeaderBytes)
	case b.left > lim.StreamMax():
		b.err = errBodyTooLarge
	case b.left == 0:
		b.done = true
	}
	return b
}

// Read reads body bytes; io.EOF at the end of the body. A framing error
// (bad chunk) is an *Error; a connection that ends first is ErrBodyTruncated
// (or the fill error that ended it). Errors are final.
func (b *BodyReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, b.err
	}
	for {
		if n := b.take(p); n > 0 {
			return n, nil
		}
		switch {
		case b.err != nil:
			return 0, b.err
		case b.done:
			return 0, io.EOF
		}
		b.more()
	}
}

// Next returns the next body bytes at hand as a view of b's window, not a
// copy: they are valid until the next call on b, and the caller must not
// change them. At the end of the body it returns io.EOF with no bytes;
// errors are Read's. It blocks (in fill) only when no byte is at hand.
func (b *BodyReader) Next() ([]byte, error) {
	for {
		if p := b.view(); len(p) > 0 {
			return p, nil
		}
		switch {
		case b.err != nil:
			return nil, b.err
		case b.done:
			return nil, io.EOF
		}
		b.more()
	}
}

// WriteTo writes the rest of the body to w (io.WriterTo), from b's window
// (Next): io.Copy(w, b) moves each byte once instead of through a buffer of
// its own.
func (b *BodyReader) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		p, err := b.Next()
		if len(p) > 0 {
			k, werr := w.Write(p)
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// take copies out body bytes already at hand.
func (b *BodyReader) take(p []byte) int {
	v := b.view()
	n := copy(p, v)
	b.unview(len(v) - n)
	return n
}

// view takes the body bytes at hand, as a view of buf. The decoded bytes of
// a chunked body that an earlier view took are dropped first (so buf stays
// one window, not the whole body), not right after: the caller may still
// read them until this call.
func (b *BodyReader) view() []byte {
	if b.chunked {
		if len(b.buf) < b.dec.Decoded() {
			return nil // a continued decoder: its bytes are still to come from fill
		}
		if b.r == b.dec.Decoded() && !b.done && b.r > 0 {
			b.dec.Shift(b.r)
			b.buf = b.buf[:copy(b.buf, b.buf[b.r:])]
			b.r = 0
		}
		v := b.buf[b.r:b.dec.Decoded()]
		b.r += len(v)
		return v
	}
	v := b.buf[b.r : b.r+int(min(int64(len(b.buf)-b.r), b.left))]
	b.r += len(v)
	b.left -= int64(len(v))
	if b.left == 0 && !b.done {
		b.done = true
		b.rest = b.buf[b.r:]
	}
	return v
}

// unview gives back the last n bytes view took (take copied fewer).
func (b *BodyReader) unview(n int) {
	if n == 0 {
		return
	}
	b.r -= n
	if !b.chunked {
		b.left += int64(n)
		if b.done {
			b.done = false
			b.rest = nil
		}
	}
}

// more gets wire bytes from fill and, for chunked, decodes them.
func (b *BodyReader) more() {
	if !b.chunked {
		b.buf, b.r = b.buf[:0], 0
	}
	buf, err := b.fill(b.buf)
	if err != nil {
		if err == io.EOF {
			err = ErrBodyTruncated
		}
		b.err = err
		return
	}
	b.buf = buf
	if !b.chunked {
		return
	}
	_, n, derr := b.dec.Decode(b.buf)
	switch {
	case derr == nil:
		b.done = true
		b.rest = b.buf[n:]
	case derr != ErrIncomplete:
		b.err = derr
	}
}

// Done reports whether the whole body was read (Read returned or will
// return io.EOF, with no bytes left).
func (b *BodyReader) Done() bool {
	return b.done && b.err == nil && (b.chunked && b.r == b.dec.Decoded() || !b.chunked && b.left == 0)
}

// Remaining is the number of body bytes not read yet, or -1 while the
// framing does not tell (chunked).
func (b *BodyReader) Remaining() int64 {
	if b.chunked {
		if b.done {
			return int64(b.dec.Decoded() - b.r)
		}
		return -1
	}
	return b.left
}

// DrainMax is how much of a body its handler left unread a server reads
// and drops to keep the connection (net/http reads 256 KiB too).
const DrainMax = 256 << 10

// Drain reads and drops what is left of the body when that is known to be
// at most DrainMax (chunked: it tries DrainMax), and reports whether the
// body is over, so the connection can go on to the next request.
func (b *BodyReader) Drain() bool {
	if !b.Done() && b.err == nil && b.Remaining() <= DrainMax {
		_, _ = io.CopyN(io.Discard, b, DrainMax)
	}
	return b.Done()
}

// Rest returns the wire bytes that followed the body (the start of the next
// request), once Done. They belong to the caller; they stay valid until the
// next call on b.
func (b *BodyReader) Rest() []byte { return b.rest }

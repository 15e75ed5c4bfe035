package http1

import "bytes"

// maxChunkLine bounds a chunk-size line (size, extensions, CRLF). Extensions
// carry nothing we use; without a bound a client could make us buffer
// without end while sending no data.
const maxChunkLine = 4096

// Chunk framing may cost at most framingPerByte bytes per decoded body byte,
// plus framingSlack: 1-byte chunks ("1\r\nX\r\n") take 5, and extensions
// (which mean nothing to us) are allowed some room, but a body cannot be
// mostly framing. Its memory is bounded anyway (Compact, Shift): this bounds
// the bytes and the parsing a small body may bring with it.
const (
	framingPerByte = 8
	framingSlack   = 64 << 10
)

var errFramingTooLarge = &Error{413, "chunk framing out of proportion to the body"}

// maxChunkDigits: net/http refuses more than 16 hex digits; leading zeros
// included, so we agree on which sizes are too long to read.
const maxChunkDigits = 16

// chunkState is where the decoder stands in the chunked grammar
// (RFC 9112 §7.1):
//
//	chunked-body = *chunk last-chunk trailer-section CRLF
//	chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk   = 1*("0") [ chunk-ext ] CRLF
type chunkState uint8

const (
	chunkSize    chunkState = iota // at a chunk-size line
	chunkData                      // inside chunk-data, rem bytes left
	chunkDataEnd                   // at the CRLF after chunk-data
	chunkTrailer                   // at a trailer field line or the final CRLF
	chunkDone
)

// ChunkedDecoder decodes a chunked body in place: the data of every chunk is
// moved down over the framing, so the decoded body is a prefix of the bytes
// it came from. Its state is offsets from the start of the body, so the
// caller may move the bytes between calls (they must be moved as they are:
// the decoder has already rewritten the part before its read offset).
//
// Trailer fields (RFC 9112 §7.1.2) are checked like header fields and
// bounded by MaxTrailerBytes, then dropped: nothing in uringd reads them and
// RFC 9110 §6.5.1 forbids merging them into the header section blindly.
type ChunkedDecoder struct {
	MaxBody         int64 // decoded bytes; over it: 413
	MaxTrailerBytes int   // trailer section bytes; over it: 431

	r, w     int   // read offset (wire) and write offset (decoded), from the body start
	shifted  int64 // decoded bytes the caller removed from the front (Shift)
	dropped  int64 // framing bytes the caller removed (Compact)
	rem      int64 // bytes left in the current chunk-data
	state    chunkState
	trailers int // offset where the trailer section starts
}

// Reset readies d for a new body with the given limits.
func (d *ChunkedDecoder) Reset(maxBody int64, maxTrailerBytes int) {
	*d = ChunkedDecoder{MaxBody: maxBody, MaxTrailerBytes: maxTrailerBytes}
}

// Decode continues decoding buf, the wire bytes of the body from its first
// chunk-size line. When the body is complete it returns the decoded body
// (a prefix of buf) and the number of wire bytes it took, trailers included.
// ErrIncomplete means: call again with the same bytes plus more.
// An *Error is final.
func (d *ChunkedDecoder) Decode(buf []byte) (body []byte, n int, err error) {
	for {
		switch d.state {
		case chunkSize:
			err = d.sizeLine(buf)
		case chunkData:
			d.data(buf)
		case chunkDataEnd:
			err = d.dataEnd(buf)
		case chunkTrailer:
			err = d.trailerLine(buf)
		case chunkDone:
			return buf[:d.w:d.w], d.r, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if d.state == chunkData && d.rem > 0 && d.r == len(buf) {
			return nil, 0, ErrIncomplete
		}
	}
}

// Decoded is the number of decoded body bytes at the front of the buffer
// given to Decode, complete or not: a reader streaming the body may hand
// them out before the body ends.
func (d *ChunkedDecoder) Decoded() int { return d.w }

// Shift tells d that the caller removed the first k decoded bytes from the
// front of its buffer (0 <= k <= Decoded()) and moved the rest down as they
// were, so that a body streamed through a window needs no more memory than
// the window. MaxBody still counts the removed bytes.
func (d *ChunkedDecoder) Shift(k int) {
	d.r -= k
	d.w -= k
	d.shifted += int64(k)
	if d.state >= chunkTrailer {
		d.trailers -= k
	}
}

// Compact removes the framing decoded so far from buf (the bytes given to
// Decode): the bytes not yet read move down to follow the decoded body, and
// the new length of buf is returned. A caller that keeps a body while it
// arrives then holds its decoded bytes and an unfinished line, not every
// chunk line it came in. The trailer section, bounded by MaxTrailerBytes,
// is left as it is.
func (d *ChunkedDecoder) Compact(buf []byte) int {
	if d.state >= chunkTrailer || d.r == d.w {
		return len(buf)
	}
	n := copy(buf[d.w:], buf[d.r:])
	d.dropped += int64(d.r - d.w)
	d.r = d.w
	return d.w + n
}

// sizeLine parses chunk-size [ chunk-ext ] CRLF.
func (d *ChunkedDecoder) sizeLine(buf []byte) error {
	line, ok, err := nextLine(buf, d.r, maxChunkLine, errChunkLineLong)
	if !ok || err != nil {
		return err
	}
	i := 0
	var size int64
	for i < len(line) {
		v := HexDigit(line[i])
		if v < 0 {
			break
		}
		if i == maxChunkDigits {
			return errBadChunkSize
		}
		size = size<<4 | int64(v)
		i++
	}
	if i == 0 || size < 0 {
		return errBadChunkSize
	}
	if err := checkChunkExt(line[i:]); err != nil {
		return err
	}
	d.r += len(line) + 2
	if d.dropped+int64(d.r-d.w) > framingPerByte*(d.shifted+int64(d.w))+framingSlack {
		return errFramingTooLarge
	}
	if size == 0 {
		d.state = chunkTrailer
		d.trailers = d.r
		return nil
	}
	if size > d.MaxBody-d.shifted-int64(d.w) {
		return errBodyTooLarge
	}
	d.rem = size
	d.state = chunkData
	return nil
}

// data moves what has arrived of the current chunk-data down to the write
// offset (memmove: the regions may overlap).
func (d *ChunkedDecoder) data(buf []byte) {
	k := min(int64(len(buf)-d.r), d.rem)
	copy(buf[d.w:], buf[d.r:d.r+int(k)])
	d.w += int(k)
	d.r += int(k)
	d.rem -= int64(k)
	if d.rem == 0 {
		d.state = chunkDataEnd
	}
}

// dataEnd requires the CRLF that closes chunk-data. Anything else means the
// size lied; RFC 9112 §7.1 leaves no room to resynchronise.
func (d *ChunkedDecoder) dataEnd(buf []byte) error {
	switch {
	case d.r >= len(buf):
		return ErrIncomplete
	case buf[d.r] != '\r':
		return errChunkNoCRLF
	case d.r+1 >= len(buf):
		return ErrIncomplete
	case buf[d.r+1] != '\n':
		return errChunkNoCRLF
	}
	d.r += 2
	d.state = chunkSize
	return nil
}

// trailerLine consumes one trailer field line, or the empty line that ends
// the body. Trailer lines follow the header field rules (RFC 9112 §7.1.2).
func (d *ChunkedDecoder) trailerLine(buf []byte) error {
	budget := d.MaxTrailerBytes - (d.r - d.trailers)
	line, ok, err := nextLine(buf, d.r, budget, errTrailerTooLarge)
	if !ok || err != nil {
		return err
	}
	d.r += len(line) + 2
	if len(line) == 0 {
		d.state = chunkDone
		return nil
	}
	return checkFieldLine(line)
}

// nextLine returns buf[from:] up to (not including) the next CRLF. ok is
// false with ErrIncomplete when there is no LF yet; a line longer than
// limit fails with tooLong; a LF without CR before it is a bare LF.
func nextLine(buf []byte, from, limit int, tooLong *Error) (line []byte, ok bool, err error) {
	if limit < 0 {
		return nil, false, tooLong
	}
	rest := buf[from:]
	if len(rest) > limit+2 {
		rest = rest[:limit+2]
	}
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		if len(rest) >= limit+2 {
			return nil, false, tooLong
		}
		return nil, false, ErrIncomplete
	}
	if j == 0 || rest[j-1] != '\r' {
		return nil, false, errBareLF
	}
	line = rest[:j-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, false, errBareCR
	}
	return line, true, nil
}

// checkChunkExt validates what follows the size digits:
// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1).
// Extensions mean nothing to us, so only the bytes are checked: it must
// start with ';' (after optional whitespace) and hold no control bytes.
func checkChunkExt(ext []byte) error {
	i := 0
	for i < len(ext) && (ext[i] == ' ' || ext[i] == '\t') {
		i++
	}
	if i == len(ext) {
		if i > 0 {
			return errBadChunkExt // whitespace with no extension
		}
		return nil
	}
	if ext[i] != ';' {
		return errBadChunkSize
	}
	for _, c := range ext[i:] {
		if !valueTable[c] {
			return errBadChunkExt
		}
	}
	return nil
}

// checkFieldLine validates a trailer field line: name ":" OWS value OWS.
func checkFieldLine(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	i := scanToken(line, 0)
	if i == len(line) {
		return errNoColon
	}
	if line[i] != ':' {
		return fieldNameError(line[i])
	}
	if i == 0 {
		return errEmptyFieldName
	}
	if scanValue(line, i+1) != len(line) {
		return errBadFieldValue
	}
	return nil
}

// HexDigit returns the value of the hex digit c, or -1 (chunk sizes here,
// percent-escapes in the static file server).
func HexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

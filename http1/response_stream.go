package http1

import "strconv"

// Streaming: a response whose head must go out before all of its body is
// written (a handler that produces its body over time, off the worker). The
// head is finished with FinishStream; the rest of the body is then framed
// by the caller as FinishStream says: with AppendChunk (or
// AppendChunkHeader, the data, AppendChunkEnd) and AppendLastChunk when
// chunked, as it is otherwise.

// StreamFraming says how the rest of a streamed body must be sent.
type StreamFraming uint8

const (
	// StreamChunked: wrap each piece with AppendChunk and end the body
	// with AppendLastChunk (HTTP/1.1 client, RFC 9112 §7.1).
	StreamChunked StreamFraming = iota
	// StreamUntilClose: an HTTP/1.0 client cannot read chunked (RFC 9112
	// §7: not for 1.0), so pieces go as they are and closing the
	// connection ends the body (§6.3 point 8); WillClose is true.
	StreamUntilClose
	// StreamNoBody: HEAD, 1xx, 204 or 304; send nothing more.
	StreamNoBody
	// StreamLength: the head has the Content-Length of SetContentLength;
	// send the rest of that many bytes as they are.
	StreamLength
)

// FinishStream completes the head and returns dst with it appended,
// followed by whatever body was written so far (framed as the first chunk
// when chunked). The caller then sends the rest of the body as the
// returned StreamFraming says. The framing: none for 1xx, 204 and 304;
// SetContentLength's length if declared; else chunked, or until close for
// an HTTP/1.0 client. A HEAD response has the length if one was declared
// and no framing field otherwise (RFC 9110 §9.3.2 lets a server omit what
// only generating the body would tell). The Response is done after this;
// Reset it for the next one.
func (w *Response) FinishStream() ([]byte, StreamFraming) {
	var fr bodyFraming
	var sf StreamFraming
	switch {
	case w.noBodyStatus():
		fr, sf = frameNone, StreamNoBody
	case w.clen >= 0:
		fr, sf = frameLength, StreamLength
	case w.head:
		fr, sf = frameNone, StreamNoBody
	case w.http10:
		w.close = true
		fr, sf = frameClose, StreamUntilClose
	default:
		fr, sf = frameChunked, StreamChunked
	}
	if w.head {
		sf = StreamNoBody
	}
	w.last.valid = false // scratch no longer holds Finish's head
	h := w.appendHead(w.scratch[:0], fr, w.clen)
	if sf == StreamNoBody {
		w.scratch = h
		w.dropBody()
		w.insertHead(h)
		return w.dst, sf
	}
	bodyLen := w.bodyLen()
	if sf == StreamChunked && bodyLen > 0 {
		h = AppendChunkHeader(h, bodyLen)
	}
	w.scratch = h
	w.insertHead(h)
	if sf == StreamChunked && bodyLen > 0 {
		w.reserve(2)
		w.dst = AppendChunkEnd(w.dst)
	}
	return w.dst, sf
}

// AppendChunk appends p to dst as one chunk: size in hex, CRLF, data,
// CRLF. An empty p appends nothing, since an empty chunk ends the body.
func AppendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = AppendChunkHeader(dst, len(p))
	dst = append(dst, p...)
	return AppendChunkEnd(dst)
}

// AppendChunkHeader appends the line that starts a chunk of n > 0 bytes
// (size in hex, CRLF): for a caller that sends the data from its own buffer
// rather than copying it behind the line. AppendChunkEnd follows the data.
func AppendChunkHeader(dst []byte, n int) []byte {
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, "\r\n"...)
}

// AppendChunkEnd appends the CRLF that ends a chunk's data.
func AppendChunkEnd(dst []byte) []byte { return append(dst, "\r\n"...) }

// AppendLastChunk appends the last-chunk and the empty trailer section
// that end a chunked body.
func AppendLastChunk(dst []byte) []byte {
	return append(dst, "0\r\n\r\n"...)
}

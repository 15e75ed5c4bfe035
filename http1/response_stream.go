package http1

import "strconv"

// Streaming: a response whose length is not known when its head must go
// out (a handler that produces its body over time, off the worker). The
// head is finished with FinishStream; the rest of the body is then framed
// by the caller with AppendChunk and AppendLastChunk, as FinishStream says.

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
)

// FinishStream completes the head of a response whose body length is not
// known, and returns dst with the head appended, followed by whatever body
// was written so far (framed as the first chunk when chunked). The caller
// then sends the rest of the body as the returned StreamFraming says.
// The Response is done after this; Reset it for the next one.
func (w *Response) FinishStream() ([]byte, StreamFraming) {
	var fr bodyFraming
	var sf StreamFraming
	switch {
	case w.noBodyStatus():
		fr, sf = frameNone, StreamNoBody
	case w.http10:
		w.close = true
		fr, sf = frameClose, StreamUntilClose
	default:
		fr, sf = frameChunked, StreamChunked
	}
	if w.head {
		// Same head as the GET would get (RFC 9110 §9.3.2), no body.
		sf = StreamNoBody
	}
	w.last.valid = false // scratch no longer holds Finish's head
	h := w.appendHead(w.scratch[:0], fr, 0)
	if sf == StreamNoBody {
		w.scratch = h
		w.dropBody()
		w.insertHead(h)
		return w.dst, sf
	}
	bodyLen := len(w.dst) - w.start
	if sf == StreamChunked && bodyLen > 0 {
		h = appendChunkSize(h, bodyLen)
	}
	w.scratch = h
	w.insertHead(h)
	if sf == StreamChunked && bodyLen > 0 {
		w.reserve(2)
		w.dst = append(w.dst, "\r\n"...)
	}
	return w.dst, sf
}

// AppendChunk appends p to dst as one chunk: size in hex, CRLF, data,
// CRLF. An empty p appends nothing, since an empty chunk ends the body.
func AppendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = appendChunkSize(dst, len(p))
	dst = append(dst, p...)
	return append(dst, "\r\n"...)
}

// AppendLastChunk appends the last-chunk and the empty trailer section
// that end a chunked body.
func AppendLastChunk(dst []byte) []byte {
	return append(dst, "0\r\n\r\n"...)
}

func appendChunkSize(dst []byte, n int) []byte {
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, "\r\n"...)
}

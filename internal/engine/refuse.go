package engine

import "github.com/uringd/uringd/http1"

// The answers both engines give without a handler: one text, framed by
// http1.Response like every other response.

// FrameRefusal frames in resp, after its Reset, the answer to a request
// the server refuses (the parser's 400, 413, 414, 431..., a 503 over a
// limit): status, its reason as a plain-text body, and Connection: close.
// The caller finishes it.
func FrameRefusal(resp *http1.Response, status int) {
	resp.SetStatus(status)
	resp.SetClose()
	resp.SetContentType("text/plain; charset=utf-8")
	resp.WriteString(http1.StatusText(status))
	resp.WriteString("\n")
}

// AppendPlainHTTPOnTLS appends to dst the cleartext 400 that answers an
// HTTP request sent to the TLS port (LooksLikeHTTP), as net/http and nginx
// answer it: in cleartext, since the client speaks nothing else. date is a
// Date field line (http1.DateCache.Bytes) or nil. Cold path: it allocates.
func AppendPlainHTTPOnTLS(dst, date []byte) []byte {
	var r http1.Response
	r.Reset(dst, nil, date)
	r.SetStatus(400)
	r.SetClose()
	r.SetContentType("text/plain; charset=utf-8")
	r.WriteString("Client sent an HTTP request to an HTTPS server.\n")
	return r.Finish()
}

// LooksLikeHTTP reports whether b, the first bytes of a connection on the
// TLS port, open as an HTTP request line does: an upper-case method of up
// to 16 letters, then a space, or only such letters so far (b may be a
// 5-byte TLS record header, which crypto/tls reports). A TLS record opens
// with a content type byte below 0x20, so the two never mix.
func LooksLikeHTTP(b []byte) bool {
	for i, x := range b {
		switch {
		case x == ' ':
			return i > 0
		case x < 'A' || x > 'Z' || i >= 16:
			return false
		}
	}
	return len(b) > 0
}

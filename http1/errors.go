package http1

import (
	"errors"
	"strconv"
)

// ErrIncomplete means the bytes so far are a valid prefix of a request:
// read more and call again with the same bytes (possibly moved) plus the new ones.
var ErrIncomplete = errors.New("http1: incomplete request")

// Error is a request the server must refuse. Status is the code to answer
// (400, 413, 414, 431, 501 or 505); the connection must be closed afterwards,
// because after a framing error nobody knows where the next request starts.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string {
	return "http1: " + strconv.Itoa(e.Status) + " " + e.Reason
}

// The errors are package-level pointers so that returning one never allocates.
var (
	errBadRequestLine   = &Error{400, "malformed request line"}
	errBadMethod        = &Error{400, "invalid method"}
	errBadTarget        = &Error{400, "request-target is not origin, absolute, authority or asterisk form"}
	errTargetCTL        = &Error{400, "control byte in request target"}
	errBadVersion       = &Error{400, "malformed HTTP version"}
	errVersion          = &Error{505, "HTTP version not supported"}
	errURITooLong       = &Error{414, "URI too long"}
	errHeaderTooLarge   = &Error{431, "request header section too large"}
	errTooManyHeaders   = &Error{431, "too many header fields"}
	errBareCR           = &Error{400, "bare CR"}
	errBareLF           = &Error{400, "bare LF (line must end in CRLF)"}
	errObsFold          = &Error{400, "obsolete line folding or leading whitespace"}
	errSpaceBeforeColon = &Error{400, "whitespace between field name and colon"}
	errBadFieldName     = &Error{400, "invalid byte in field name"}
	errNoColon          = &Error{400, "field line without a colon"}
	errEmptyFieldName   = &Error{400, "empty field name"}
	errBadFieldValue    = &Error{400, "control byte in field value"}
	errNoHost           = &Error{400, "missing Host header in HTTP/1.1 request"}
	errDupHost          = &Error{400, "more than one Host header"}
	errBadHost          = &Error{400, "invalid Host header"}
	errDupCL            = &Error{400, "more than one Content-Length"}
	errBadCL            = &Error{400, "invalid Content-Length"}
	errTEAndCL          = &Error{400, "both Transfer-Encoding and Content-Length"}
	errTEHTTP10         = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errChunkedNotLast   = &Error{400, "chunked is not the final transfer coding"}
	errBadTE            = &Error{400, "empty Transfer-Encoding"}
	errUnsupportedTE    = &Error{501, "unsupported transfer coding"}
	errBodyTooLarge     = &Error{413, "request body too large"}
	errBadChunkSize     = &Error{400, "invalid chunk size"}
	errBadChunkExt      = &Error{400, "invalid chunk extension"}
	errChunkLineLong    = &Error{400, "chunk size line too long"}
	errChunkNoCRLF      = &Error{400, "missing CRLF after chunk data"}
	errTrailerTooLarge  = &Error{431, "trailer section too large"}
)

package http1

import "encoding/binary"

// This file holds the rules that decide where a request ends and whether the
// connection persists: RFC 9112 §6 (message body length), §9.3 (persistence),
// §3.2 (Host) and RFC 9110 §10.1.1 (Expect). Each rule lives here once.
// Framing errors are never guessed around: two parsers that disagree about
// a body's length are a request-smuggling hole.

// framing collects the framing headers while the field lines are parsed,
// so the head is walked once.
type framing struct {
	host      []byte
	hostSeen  bool
	cl        int64
	clSeen    bool
	teSeen    bool // a Transfer-Encoding field line was present
	teChunked bool // "chunked" was the last coding so far
	teOther   bool // some coding other than chunked was listed
	teAfter   bool // a coding followed chunked
	connClose bool
	connKeep  bool
	expect100 bool
}

// field looks at one field line. Names are matched by length first, so the
// common headers that do not drive framing cost one switch.
func (f *framing) field(name, value []byte) error {
	switch len(name) {
	case 4: // Host is in every request: one compare of the folded word
		if binary.LittleEndian.Uint32(name)|0x20202020 == str32("host", 0) {
			return f.hostField(value)
		}
	case 6:
		if lowerEq(name, "expect") && lowerEq(value, "100-continue") {
			f.expect100 = true
		}
	case 10:
		if lowerEq(name, "connection") {
			f.connectionField(value)
		}
	case 14:
		if lowerEq(name, "content-length") {
			return f.contentLengthField(value)
		}
	case 17:
		if lowerEq(name, "transfer-encoding") {
			return f.transferEncodingField(value)
		}
	}
	return nil
}

// hostField: RFC 9112 §3.2: a server MUST respond 400 to a request with more
// than one Host field line or an invalid Host value: the whole value must be
// uri-host [ ":" port ] (host.go); an empty value is allowed (an
// authority-less target).
func (f *framing) hostField(v []byte) error {
	if f.hostSeen {
		return errDupHost
	}
	if !validHost(v) {
		return errBadHost
	}
	f.hostSeen = true
	f.host = v
	return nil
}

// contentLengthField: RFC 9110 §8.6: Content-Length = 1*DIGIT. A list
// ("5, 5") or a second field line MAY be accepted when the values agree; we
// refuse both (RFC 9112 §6.3 point 5 says an invalid length is unrecoverable),
// because one more leniency is one more way to disagree with a proxy.
// A value that does not fit in int63 is invalid, not clamped.
func (f *framing) contentLengthField(v []byte) error {
	if f.clSeen {
		return errDupCL
	}
	if len(v) == 0 {
		return errBadCL
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return errBadCL
		}
		if n > (1<<63-1-9)/10 {
			return errBadCL // overflow
		}
		n = n*10 + int64(c-'0')
	}
	f.clSeen = true
	f.cl = n
	return nil
}

// transferEncodingField reads one Transfer-Encoding list (RFC 9112 §6.1;
// several field lines form one list, RFC 9110 §5.3). Only "chunked" is
// understood; the decision is taken in finish, once the whole list is known.
// Empty list elements are ignored (RFC 9110 §5.6.1).
func (f *framing) transferEncodingField(v []byte) error {
	f.teSeen = true
	for len(v) > 0 {
		var elem []byte
		elem, v = nextListElem(v)
		if len(elem) == 0 {
			continue
		}
		if f.teChunked {
			// RFC 9112 §6.1: chunked MUST NOT be applied more than
			// once and MUST be the final coding.
			f.teAfter = true
		}
		if lowerEq(elem, "chunked") {
			f.teChunked = true
		} else {
			f.teChunked = false
			f.teOther = true
		}
	}
	return nil
}

// connectionField: RFC 9112 §9.3 / RFC 9110 §7.6.1: a list of connection
// options; "close" and "keep-alive" decide persistence, others are ignored.
func (f *framing) connectionField(v []byte) {
	for len(v) > 0 {
		var elem []byte
		elem, v = nextListElem(v)
		switch {
		case lowerEq(elem, "close"):
			f.connClose = true
		case lowerEq(elem, "keep-alive"):
			f.connKeep = true
		}
	}
}

// nextListElem splits the first element off a comma-separated list
// (RFC 9110 §5.6.1), trimming whitespace.
func nextListElem(v []byte) (elem, rest []byte) {
	for i, c := range v {
		if c == ',' {
			return trimOWS(v[:i]), v[i+1:]
		}
	}
	return trimOWS(v), nil
}

// finish applies the rules that need the whole head and fills req.
func (f *framing) finish(req *Request, lim *Limits) error {
	// RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request
	// that lacks a Host header field.
	if req.ProtoMinor == 1 && !f.hostSeen {
		return errNoHost
	}
	req.Host = f.host
	if f.teSeen {
		if err := f.transferCoding(req); err != nil {
			return err
		}
	}
	if f.clSeen {
		// RFC 9110 §15.5.14: 413 when the content is larger than the
		// server is willing to process. Checked before any body arrives.
		if f.cl > lim.anyBodyMax() { // over MaxBody: only if streamed (Parser.KeepBody)
			return errBodyTooLarge
		}
		req.ContentLength = f.cl
	}
	// RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 persists
	// only with "keep-alive" (RFC 9112 Appendix C.2.2).
	if req.ProtoMinor == 1 {
		req.Close = f.connClose
	} else {
		req.Close = f.connClose || !f.connKeep
		req.KeepAlive10 = !req.Close
	}
	// RFC 9110 §10.1.1: a server that receives 100-continue in an
	// HTTP/1.0 request MUST ignore it.
	req.ExpectContinue = f.expect100 && req.ProtoMinor == 1
	return nil
}

// transferCoding applies RFC 9112 §6.1 and §6.3 to a request that has a
// Transfer-Encoding field.
func (f *framing) transferCoding(req *Request) error {
	switch {
	case req.ProtoMinor == 0:
		// §6.1: Transfer-Encoding in an HTTP/1.0 message MUST be treated
		// as faulty framing, even with a Content-Length.
		return errTEHTTP10
	case f.clSeen:
		// §6.1: a server MAY reject a request with both; doing so is the
		// only choice that cannot desync with an intermediary.
		return errTEAndCL
	case f.teAfter:
		// §6.3 point 4: chunked is not the final coding, so the length
		// cannot be determined: 400 and close.
		return errChunkedNotLast
	case f.teOther:
		// §6.1: a coding we do not understand SHOULD get 501.
		return errUnsupportedTE
	case !f.teChunked:
		return errBadTE // only empty elements
	}
	req.Chunked = true
	return nil
}

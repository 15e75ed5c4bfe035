package http1

// parserState: head → (body →) head ... ; any → failed, which is absorbing.
type parserState uint8

const (
	stateHead   parserState = iota // waiting for a complete request head
	stateBody                      // head parsed; body still arriving
	stateFailed                    // an *Error was returned; the connection must close
)

// Parser is the per-connection request reader. It holds no pointer into the
// caller's bytes between calls, only offsets, so the caller may move the
// unconsumed bytes to another buffer (the rare path where a request spans
// several receive buffers) before calling again.
//
// Nor does it keep anything in the header storage across calls: views are
// written there afresh by each call (a request whose body arrives later has
// its head parsed again when it completes). So one header array may be
// shared by all the parsers of a worker, as long as each request is
// handled before the next Next call on any of them.
//
// The zero Parser is not usable; call Init.
type Parser struct {
	lim     Limits
	headers []Header // caller-owned storage that Request.Headers reuses

	state   parserState
	scanned int // head: len(buf) at the last ErrIncomplete (ParseHead's prevLen)
	headLen int // body: bytes of the head
	bodyLen int64
	chunked bool
	dec     ChunkedDecoder

	continuePending bool
	headOnly        bool   // the last Next parsed a head whose body is to come (HeadOnly)
	kept            bool   // body: the caller receives it whole, so MaxBody holds (KeepBody)
	err             *Error // the final error, once state is stateFailed
}

// Init readies p for a new connection. headers is the storage for parsed
// field lines; its capacity (and lim.MaxHeaders) bound their number. A zero
// field of lim (or a nil lim) takes the DefaultLimits value.
func (p *Parser) Init(lim *Limits, headers []Header) {
	l := DefaultLimits
	if lim != nil {
		l = lim.withDefaults()
	}
	*p = Parser{lim: l, headers: headers[:0]}
}

// Next parses one complete request — head and body — from the start of buf.
// On success it returns the bytes consumed, and req's fields are views into
// buf (a chunked body is decoded in place, so buf[:n] is rewritten).
// ErrIncomplete: call again with the same bytes (as they are now, maybe in
// another buffer) plus more. An *Error is final: answer e.Status and close;
// later calls return the same error, so nothing after a bad request is ever
// read as a new request.
func (p *Parser) Next(buf []byte, req *Request) (n int, err error) {
	switch p.state {
	case stateHead:
		return p.head(buf, req)
	case stateBody:
		return p.body(buf, req)
	}
	return 0, p.err
}

// InBody reports whether the request being read has a complete head and
// is waiting for its body (a server applies its body timeout rather than
// its header timeout then).
func (p *Parser) InBody() bool { return p.state == stateBody }

// Pending reports the total length — head plus body — of the request whose
// head is parsed and whose Content-Length body is still arriving, counted
// from the start of the request; 0 otherwise (no such request, or a chunked
// body, whose length is unknown). It is what the client declares, not what
// it sent: a caller that stitches the request into its own buffer may stop
// growing that buffer there, but must not reserve it all up front (the
// value goes up to Limits.MaxBody).
func (p *Parser) Pending() int {
	if p.state == stateBody && !p.chunked && p.bodyLen <= p.lim.MaxBody {
		return p.headLen + int(p.bodyLen)
	}
	return 0
}

// CompactBody removes from buf, the bytes last given to Next (from the start
// of the request), the chunk framing of a chunked body still arriving that
// is decoded already, and returns the new length of buf; the caller keeps
// buf[:n] and appends what arrives next. Outside a chunked body it returns
// len(buf). So a body stitched across reads costs its decoded length plus
// one unfinished line, however small its chunks.
func (p *Parser) CompactBody(buf []byte) int {
	if p.state != stateBody || !p.chunked || len(buf) < p.headLen {
		return len(buf)
	}
	return p.headLen + p.dec.Compact(buf[p.headLen:])
}

// NeedContinue reports, once, that the head of a request with
// "Expect: 100-continue" has been read and its body is still to come: the
// server should now send "HTTP/1.1 100 Continue\r\n\r\n" (RFC 9110 §10.1.1).
func (p *Parser) NeedContinue() bool {
	if p.continuePending && p.state == stateBody {
		p.continuePending = false
		return true
	}
	return false
}

func (p *Parser) head(buf []byte, req *Request) (int, error) {
	p.headOnly = false
	req.Headers = p.headers
	var n int
	var err error
	if p.scanned == 0 {
		// A whole request in one read, the common case: straight to the
		// parse (ParseHead's resumption check has nothing to resume).
		n, err = parseHead(buf, req, &p.lim)
		if err == ErrIncomplete && len(buf) > p.lim.MaxHeaderBytes {
			err = errHeaderTooLarge
		}
	} else {
		n, err = ParseHead(buf, p.scanned, req, &p.lim)
	}
	if err != nil {
		if err == ErrIncomplete {
			p.scanned = len(buf)
			return 0, err
		}
		return 0, p.fail(err)
	}
	p.scanned = 0
	switch {
	case req.Chunked:
		// Up to the larger limit until the caller says whether it
		// streams the body (KeepBody, ReleaseBody).
		p.dec.Reset(p.lim.anyBodyMax(), p.lim.MaxHeaderBytes)
		body, m, err := p.dec.Decode(buf[n:])
		if err == nil {
			if int64(len(body)) > p.lim.MaxBody {
				return 0, p.fail(errBodyTooLarge) // whole, it is held whole
			}
			req.Body = body
			return n + m, nil
		}
		if err != ErrIncomplete {
			return 0, p.fail(err)
		}
	case req.ContentLength > 0:
		if req.ContentLength <= p.lim.MaxBody && int64(len(buf)-n) >= req.ContentLength {
			end := n + int(req.ContentLength)
			req.Body = buf[n:end:end]
			return end, nil
		}
	default:
		return n, nil // no body: the common case
	}
	p.headLen = n
	p.bodyLen = req.ContentLength
	p.chunked = req.Chunked
	p.continuePending = req.ExpectContinue
	p.state = stateBody
	p.headOnly = true
	p.kept = false
	return 0, ErrIncomplete
}

// KeepBody tells p, right after a head whose body is to come (HeadOnly),
// that the caller will receive that body whole rather than stream it:
// then Limits.MaxBody holds, and a body known to be longer (its
// Content-Length, or the chunks decoded so far) is refused at once (413,
// final), before a "100 Continue" invites it. Next applies the same rule
// by itself when the body is complete, so a caller that never streams
// need not call it.
func (p *Parser) KeepBody() error {
	if p.state != stateBody || p.kept {
		return nil
	}
	p.kept = true
	if p.bodyLen > p.lim.MaxBody ||
		p.chunked && p.dec.shifted+int64(p.dec.w)+p.dec.rem > p.lim.MaxBody {
		return p.fail(errBodyTooLarge)
	}
	p.dec.MaxBody = p.lim.MaxBody
	return nil
}

// HeadOnly reports, right after a Next that returned ErrIncomplete, that
// this Next parsed a request head whose body is still to come: req holds
// the head (views into the bytes given to Next), which took headLen bytes.
// A server may then hand the body to a reader of its own (ReleaseBody,
// BodyReader) instead of waiting for all of it.
func (p *Parser) HeadOnly() (headLen int, ok bool) {
	if !p.headOnly || p.state != stateBody {
		return 0, false
	}
	p.headOnly = false
	return p.headLen, true
}

// ReleaseBody gives up the body of the request whose head was just parsed
// (HeadOnly): the caller reads it, with a BodyReader continued from the
// returned decoder (Next has already decoded a chunked body's first bytes
// in place, so the bytes after the head are no longer the wire bytes). The
// next Next starts at a new request, at the first byte after that body.
func (p *Parser) ReleaseBody() ChunkedDecoder {
	if p.state == stateBody {
		p.state = stateHead
		p.headOnly, p.continuePending, p.scanned = false, false, 0
	}
	return p.dec
}

// body waits for the rest of the body. When it is complete the head is
// parsed again from buf, because the views from the first parse may point
// into a buffer the caller has since left; that is one extra head parse per
// request whose body came in a later read.
func (p *Parser) body(buf []byte, req *Request) (int, error) {
	p.headOnly = false
	if err := p.KeepBody(); err != nil {
		return 0, err
	}
	var body []byte
	var n int
	if p.chunked {
		var err error
		body, n, err = p.dec.Decode(buf[p.headLen:])
		if err != nil {
			if err == ErrIncomplete {
				return 0, err
			}
			return 0, p.fail(err)
		}
		n += p.headLen
	} else {
		if int64(len(buf)-p.headLen) < p.bodyLen {
			return 0, ErrIncomplete
		}
		n = p.headLen + int(p.bodyLen)
		body = buf[p.headLen:n:n]
	}
	req.Headers = p.headers
	if _, err := parseHead(buf[:p.headLen], req, &p.lim); err != nil {
		return 0, p.fail(err) // cannot happen unless the caller changed the bytes
	}
	req.Body = body
	p.state = stateHead
	p.continuePending = false
	return n, nil
}

// fail records err (always an *Error: ErrIncomplete never gets here) and
// makes it final.
func (p *Parser) fail(err error) error {
	p.state = stateFailed
	p.err = err.(*Error)
	return err
}

// Package minihttp is the minimal HTTP/1.1 request framing shared by the gnet
// and iouring-go peers. It is deliberately small but honest: it finds the end
// of each request (head plus Content-Length body), so pipelined requests each
// get an answer and a request split across reads waits for the rest, and it
// honours Connection: close. Chunked request bodies are refused with 501
// rather than misframed.
//
// It is not uringd's parser (http1/) and must not become a shortcut that makes
// the peers look faster than a real server could be.
package minihttp

import (
	"bytes"
	"errors"
)

// MaxHead bounds a request head; a longer one is answered 431 and closed.
const MaxHead = 8 << 10

// MaxBody bounds a request body; a larger one is answered 413 and closed.
const MaxBody = 4 << 20

// ErrBad means the request cannot be framed; Request.Status says what to answer
// before closing the connection.
var ErrBad = errors.New("minihttp: bad request")

// Request is one framed request. Method and Path alias the caller's buffer and
// are valid until the buffer is reused.
type Request struct {
	Method, Path []byte
	Body         []byte // aliases the buffer; empty without Content-Length
	Close        bool   // answer with Connection: close, then close
	Status       int    // set with ErrBad: the status to answer
}

// Next frames the first request in buf. It returns the number of bytes the
// request occupies (head and body), or 0 and nil when buf does not yet hold a
// complete request: the caller keeps buf and calls again with more appended.
// On ErrBad, req.Status is the status to answer before closing.
func Next(buf []byte, req *Request) (int, error) {
	*req = Request{}
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > MaxHead {
			return bad(req, 431)
		}
		return 0, nil
	}
	head := buf[:end+2] // keep the last header's CRLF so every line ends in one
	lineEnd := bytes.Index(head, []byte("\r\n"))
	if !requestLine(head[:lineEnd], req) {
		return bad(req, 400)
	}
	cl, ok := headers(head[lineEnd+2:], req)
	if !ok {
		return bad(req, req.Status)
	}
	total := end + 4 + cl
	if len(buf) < total {
		return 0, nil
	}
	req.Body = buf[end+4 : total]
	return total, nil
}

// Need reports how many bytes the first request in buf needs in total, or 0
// when its head is not complete yet. Servers use it to skip re-parsing while a
// large body is still arriving.
func Need(buf []byte) int {
	var req Request
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return 0
	}
	head := buf[:end+2]
	lineEnd := bytes.Index(head, []byte("\r\n"))
	cl, ok := headers(head[lineEnd+2:], &req)
	if !ok {
		return 0
	}
	return end + 4 + cl
}

func bad(req *Request, status int) (int, error) {
	req.Status = status
	req.Close = true
	return 0, ErrBad
}

// requestLine splits "METHOD SP target SP HTTP/1.x"; HTTP/1.0 closes by default.
func requestLine(line []byte, req *Request) bool {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return false
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return false
	}
	req.Method, req.Path = line[:sp1], rest[:sp2]
	if q := bytes.IndexByte(req.Path, '?'); q >= 0 {
		req.Path = req.Path[:q]
	}
	switch string(rest[sp2+1:]) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		req.Close = true
	default:
		return false
	}
	return true
}

// headers scans the header lines (each ending in CRLF) for the two that change
// framing and connection handling: Content-Length and Connection (plus
// Transfer-Encoding, refused). It returns the body length.
func headers(h []byte, req *Request) (int, bool) {
	cl := 0
	for len(h) > 0 {
		eol := bytes.Index(h, []byte("\r\n"))
		line := h[:eol]
		h = h[eol+2:]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			req.Status = 400
			return 0, false
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := atoi(value)
			if !ok {
				req.Status = 400
				return 0, false
			}
			if n > MaxBody {
				req.Status = 413
				return 0, false
			}
			cl = n
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				req.Close = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				req.Close = false
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			req.Status = 501
			return 0, false
		}
	}
	return cl, true
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

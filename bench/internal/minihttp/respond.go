package minihttp

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/bench/internal/routes"
)

// date holds the preformatted "Date: ...\r\n" line, refreshed once a second by
// a ticker so no request pays for formatting a time.
var date atomic.Pointer[[]byte]

func init() {
	refreshDate()
	go func() {
		for range time.Tick(time.Second) {
			refreshDate()
		}
	}()
}

func refreshDate() {
	b := []byte("Date: " + time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") + "\r\n")
	date.Store(&b)
}

// AppendRoute appends the response to req, per the routes package: GET / and
// GET /fibonacci, POST /echo, 404 otherwise. server is the Server header value.
func AppendRoute(dst []byte, req *Request, server string) []byte {
	switch {
	case string(req.Path) == "/" && string(req.Method) == "GET":
		return AppendResponse(dst, 200, server, req.Close, []byte(routes.HelloBody))
	case string(req.Path) == "/fibonacci" && string(req.Method) == "GET":
		var body [64]byte
		return AppendResponse(dst, 200, server, req.Close, routes.AppendFibonacciBody(body[:0]))
	case string(req.Path) == "/echo" && string(req.Method) == "POST":
		return AppendResponse(dst, 200, server, req.Close, req.Body)
	default:
		return AppendResponse(dst, 404, server, req.Close, []byte("not found\n"))
	}
}

// AppendResponse appends a complete text/plain response with Content-Length.
func AppendResponse(dst []byte, status int, server string, closeConn bool, body []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	dst = append(dst, "\r\nServer: "...)
	dst = append(dst, server...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, *date.Load()...)
	dst = append(dst, "Content-Type: text/plain\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	if closeConn {
		dst = append(dst, "\r\nConnection: close"...)
	}
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 404:
		return "Not Found"
	case 413:
		return "Content Too Large"
	case 431:
		return "Request Header Fields Too Large"
	case 501:
		return "Not Implemented"
	default:
		return "Bad Request"
	}
}

package http1_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/uringd/uringd/http1"
)

// A connection's read side, as a worker runs it: parse every complete
// request in the bytes received so far, answer each, and keep the
// unconsumed tail (moved to the front, as it would be when a recv buffer is
// recycled) for the next read.
func ExampleParser() {
	var p http1.Parser
	p.Init(&http1.DefaultLimits, make([]http1.Header, http1.DefaultLimits.MaxHeaders))
	var req http1.Request
	var w http1.Response
	var date http1.DateCache
	date.Update(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))

	reads := []string{
		"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\nPOST /echo HTTP/1.1\r\nHost: exa",
		"mple.com\r\nContent-Length: 5\r\n\r\nhel",
		"lo",
	}
	var in, out []byte
	for _, r := range reads {
		in = append(in, r...)
		for {
			n, err := p.Next(in, &req)
			if err == http1.ErrIncomplete {
				break // wait for the next read
			}
			if err != nil {
				return // answer err.(*http1.Error).Status, then close
			}
			w.Reset(out, &req, date.Bytes())
			w.SetContentType("text/plain")
			if len(req.Body) > 0 {
				w.Write(req.Body)
			} else {
				w.WriteString("Hello, World!")
			}
			out = w.Finish()
			in = in[:copy(in, in[n:])] // keep the tail, as offsets allow
		}
	}
	fmt.Printf("%s", bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")))
	// Output:
	// HTTP/1.1 200 OK
	// Date: Wed, 25 Nov 2026 12:00:00 GMT
	// Content-Type: text/plain
	// Content-Length: 13
	//
	// Hello, World!HTTP/1.1 200 OK
	// Date: Wed, 25 Nov 2026 12:00:00 GMT
	// Content-Type: text/plain
	// Content-Length: 5
	//
	// hello
}

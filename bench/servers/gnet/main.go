// Command gnet is the github.com/panjf2000/gnet/v2 peer: gnet's epoll event
// loops with an honest minimal HTTP/1.1 loop on top (bench/internal/minihttp).
// Each traffic event frames every complete request in gnet's inbound buffer,
// answers each one in order (pipelining), and leaves a partial request buffered
// until the rest arrives; there is no answering per read without parsing.
package main

import (
	"flag"
	"log"
	"net"

	"github.com/panjf2000/gnet/v2"
	"github.com/uringd/uringd/bench/internal/minihttp"
)

// conn is the per-connection state kept in gnet's connection context.
type conn struct {
	// need is the total size of the request at the head of the inbound buffer
	// once its head has been framed; while less is buffered, traffic events
	// return at once instead of re-scanning a large upload on every read.
	need int
	// out collects the responses of one traffic event, written with one call.
	out []byte
}

type server struct {
	gnet.BuiltinEventEngine
}

func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&conn{})
	return nil, gnet.None
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	st := c.Context().(*conn)
	if st.need > 0 && c.InboundBuffered() < st.need {
		return gnet.None
	}
	st.need = 0
	buf, _ := c.Peek(-1)
	out := st.out[:0]
	used, action := 0, gnet.None
	for {
		var req minihttp.Request
		n, err := minihttp.Next(buf[used:], &req)
		if err != nil {
			out = minihttp.AppendResponse(out, req.Status, "gnet", true, nil)
			action = gnet.Close
			break
		}
		if n == 0 {
			st.need = minihttp.Need(buf[used:])
			break
		}
		out = minihttp.AppendRoute(out, &req, "gnet")
		used += n
		if req.Close {
			action = gnet.Close
			break
		}
	}
	if used > 0 {
		c.Discard(used) // Discard(0) would drop everything buffered
	}
	if len(out) > 0 {
		// In the event loop, Write sends what the socket takes and copies the
		// rest into gnet's outbound buffer, so out can be reused at once.
		c.Write(out)
	}
	// out keeps its capacity for the connection's life, as fasthttp keeps its
	// buffers: an upload-sized buffer is bounded by MaxBody per connection.
	st.out = out
	return action
}

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	workers := flag.Int("workers", 1, "event loops")
	flag.Parse()
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		log.Fatal(err)
	}
	log.Fatal(gnet.Run(&server{}, "tcp://"+*addr,
		gnet.WithMulticore(*workers > 1),
		gnet.WithNumEventLoop(*workers),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReusePort(false),
	))
}

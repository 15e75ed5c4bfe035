package netpoll

import (
	"io"
	"time"

	"github.com/uringd/uringd/http1"
)

// Streamed request bodies: a request whose handler reads its body as it
// arrives (Config.StreamBody) is answered as soon as its head is in. The
// handler runs on the connection's goroutine, so its body reader reads
// what is already buffered and then the connection itself, under the body
// timeout per read. What follows the body (pipelined requests) goes back to
// the input buffer; a handler that does not read the body to its end closes
// the connection after its response.

// bodyReadSize is the most one read of a streamed body takes from the socket.
const bodyReadSize = 64 << 10

// answerStreaming answers the request whose head (headLen bytes) was just
// parsed, its body to be read by the handler. false: the connection closes.
func (c *conn) answerStreaming(headLen int) bool {
	dec := c.parser.ReleaseBody()
	c.clock.start(c.start)
	in := *c.in
	tail := in[c.off+headLen:]
	c.body = http1.NewBodyReader(&c.req, &c.s.cfg.Limits, &dec, func(dst []byte) ([]byte, error) {
		if len(tail) > 0 { // what came with the head first
			dst = append(dst, tail...)
			tail = nil
			return dst, nil
		}
		return c.readBody(dst)
	})
	keep := c.answer(len(in) - c.off) // the head and the body bytes buffered with it
	body := c.body
	c.body = nil
	if !keep || !body.Drain() { // a small unread rest is dropped, as net/http does
		return false
	}
	*c.in = append(*c.in, body.Rest()...)
	return true
}

// readBody reads more of a streamed body from the connection into dst.
func (c *conn) readBody(dst []byte) ([]byte, error) {
	if cap(dst)-len(dst) < 4096 {
		nb := make([]byte, len(dst), len(dst)+bodyReadSize)
		copy(nb, dst)
		dst = nb
	}
	now := time.Now()
	c.nc.SetReadDeadline(c.clock.deadline(&c.s.cfg, now))
	n, err := c.nc.Read(dst[len(dst):min(cap(dst), len(dst)+bodyReadSize)])
	c.clock.read(now, n)
	c.s.stats.bytesIn.Add(uint64(n))
	if n > 0 {
		return dst[:len(dst)+n], nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return dst, err
}

// Body returns the request body as it arrives when it is streamed; nil when
// it is all in Request().Body.
func (s *Stream) Body() io.Reader {
	if s.c.body == nil {
		return nil
	}
	return s.c.body
}

package netpoll

import (
	"time"

	"github.com/uringd/uringd/proxyproto"
)

// proxyHeader reads the PROXY header a connection from a Config.ProxyFrom
// address must begin with, within the header timeout, and takes its source
// address as the client's. false: missing, malformed or too slow, and the
// connection closes without an answer (as on the io_uring engine: see
// worker/proxy.go). Bytes after the header stay in the input.
func (c *conn) proxyHeader() bool {
	c.nc.SetReadDeadline(headDeadline(&c.s.cfg, time.Now()))
	for {
		in := *c.in
		h, n, err := proxyproto.Parse(in)
		switch {
		case err == nil:
			if h.HasAddrs() {
				c.peer, c.remote = h.Source, h.Source.String()
			}
			c.off = n
			return true
		case err != proxyproto.ErrIncomplete:
			c.s.stats.proxyRefused.Add(1)
			return false
		}
		m, err := c.nc.Read(in[len(in):cap(in)])
		*c.in = in[:len(in)+m]
		c.got = c.got || m > 0 // not fresh any more (Shutdown, closeIfIdle)
		c.s.stats.bytesIn.Add(uint64(m))
		if m == 0 && err != nil {
			return false
		}
	}
}

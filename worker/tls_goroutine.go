package worker

import (
	"context"

	"github.com/uringd/uringd/internal/netpoll"
	"github.com/uringd/uringd/tlsrecord"
)

// TLS 1.2 (and any handshake without a record path): the connection is
// served by crypto/tls on a goroutine, the netpoll engine's per-connection
// serving (a netpoll.Server of the worker's, with Config.ConnHandler), over
// the handshake's in-memory transport. The worker still owns the socket: it
// feeds what recv brings to the transport, sends what the transport holds
// when woken, passes the client's EOF, and closes the socket once the
// goroutine has closed its Conn and its output is out. Timeouts are the
// goroutine's (the transport honours deadlines); the transport's output is
// bounded by MaxPendingOutput, so a client that does not read blocks the
// goroutine's writes, not the worker.

// tlsServe hands c, whose handshake hs ended without a record path, to a
// goroutine.
func (w *Worker) tlsServe(c *conn, hs *tlsrecord.Handshake, res *tlsrecord.Result) {
	tc := c.tls
	if w.cfg.ConnHandler == nil {
		w.log.Warn("TLS handshake without a record path and no goroutine handler; closing", "why", res.Why)
		res.TLS.Close()
		w.tlsCloseAfterWire(c)
		return
	}
	tc.hs, tc.served, tc.state = hs, true, &res.State
	hs.LimitOutput(w.cfg.MaxPendingOutput)
	c.inRequest = false
	w.wheel.clear(c.slot) // the goroutine's deadlines rule now
	if w.mode != runServing {
		// Held through a graceful shutdown (drainConn) as fresh, its
		// handshake ended since: a server of its own, draining at once
		// (the worker's may have drained already, and a drained server's
		// WaitGroup is not to be reused).
		np := netpoll.New(w.tlsServeConfig())
		np.ServeConn(res.TLS)
		go np.Shutdown(context.Background())
		return
	}
	if w.tls.np == nil {
		w.tls.np = netpoll.New(w.tlsServeConfig())
		w.tls.npPub.Store(w.tls.np)
	}
	w.tls.np.ServeConn(res.TLS)
}

// tlsServeConfig is the configuration of the servers of tlsServe.
func (w *Worker) tlsServeConfig() netpoll.Config {
	cfg := w.cfg.Config
	cfg.Handler, cfg.TLS = w.cfg.ConnHandler, nil // nil: its connections come in TLS already
	return cfg
}

// tlsServedPump sends what the goroutine wrote; once it has closed its
// Conn and all is out, the socket closes.
func (w *Worker) tlsServedPump(c *conn) {
	tc := c.tls
	closed := tc.hs.ConnClosed() // before Output: what it wrote before closing is taken
	tc.scratch = tc.hs.Output(tc.scratch[:0])
	if len(tc.scratch) > 0 {
		w.wireAppend(tc, tc.scratch)
	}
	if closed && !tc.hs.HasOutput() {
		w.tlsCloseAfterWire(c)
		if c.state == stateClosing {
			return
		}
	}
	w.tlsSendWire(c)
}

// tlsPeerEOF is peerClosed's hook: a served connection's goroutine reads
// the EOF after what came before it, answers, and closes (true: nothing
// more to do here).
func (w *Worker) tlsPeerEOF(c *conn) bool {
	tc := c.tls
	if !tc.served || tc.hs == nil || c.state != stateOpen {
		return false
	}
	c.peerEOF = true
	tc.hs.FeedEOF()
	return true
}

// tlsDrain applies a graceful shutdown to the served connections: their
// netpoll server finishes their requests (answered with Connection:
// close) and closes idle ones; the worker waits for their Conns to close.
func (w *Worker) tlsDrain() {
	if np := w.tls.np; np != nil {
		go np.Shutdown(context.Background()) // returns once every connection is closed
	}
}

// addServedStats adds to st the counters of the connections served on
// goroutines: their requests, responses, timeouts and bad records. Their
// connections and bytes on the wire are the worker's own already (it owns
// the sockets), so the goroutines' counts of those are left out.
func (w *Worker) addServedStats(st *Stats) {
	np := w.tls.npPub.Load()
	if np == nil {
		return
	}
	o := np.Stats()
	o.Accepted, o.Open, o.BytesIn, o.BytesOut, o.RecvErrors, o.SendErrors = 0, 0, 0, 0, 0, 0
	st.Add(o)
}

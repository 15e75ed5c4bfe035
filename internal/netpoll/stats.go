package netpoll

import (
	"sync/atomic"

	"github.com/uringd/uringd/internal/engine"
)

// counters are updated by every connection goroutine: atomics, and only on
// events a syscall accompanies anyway (a read, a write, an accept).
type counters struct {
	accepted, open, requests, bytesIn, bytesOut   atomic.Uint64
	badRequests, rejected, panics                 atomic.Uint64
	timeoutHead, timeoutBody, timeoutIdle         atomic.Uint64
	timeoutWrite, recvErrors, sendErrors, acceptE atomic.Uint64
	paused, bodyBufferFull, proxyRefused          atomic.Uint64
}

// Stats returns the server's counters; those of the io_uring engine alone
// (ring, buffer group, loop turns) stay 0.
func (s *Server) Stats() engine.Stats {
	c := &s.stats
	return engine.Stats{
		Accepted: c.accepted.Load(), Open: c.open.Load(), Requests: c.requests.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		BadRequests: c.badRequests.Load(), Rejected: c.rejected.Load(), Panics: c.panics.Load(),
		TimeoutHead: c.timeoutHead.Load(), TimeoutBody: c.timeoutBody.Load(),
		TimeoutIdle: c.timeoutIdle.Load(), TimeoutWrite: c.timeoutWrite.Load(),
		RecvErrors: c.recvErrors.Load(), SendErrors: c.sendErrors.Load(),
		AcceptErrors: c.acceptE.Load(), Paused: c.paused.Load(),
		BodyBufferFull: c.bodyBufferFull.Load(), BodyBufferBytes: uint64(max(s.inHeld.Load(), 0)),
		ProxyRefused: c.proxyRefused.Load(),
	}
}

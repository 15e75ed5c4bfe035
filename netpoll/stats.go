package netpoll

import "sync/atomic"

// Stats are the netpoll engine's counters, named like the io_uring worker's
// (worker.Stats) so that the uringd package reports both the same way.
type Stats struct {
	Accepted, Open, Requests, BytesIn, BytesOut         uint64
	BadRequests, Rejected, Panics                       uint64
	TimeoutHead, TimeoutBody, TimeoutIdle, TimeoutWrite uint64
	RecvErrors, SendErrors, AcceptErrors                uint64
	Paused                                              uint64 // output flushed early: over MaxPendingOutput
	BodyBufferFull                                      uint64 // requests answered 503: MaxBodyBuffer was spent
	BodyBufferBytes                                     uint64 // input buffer bytes counted against it (gauge)
}

// counters are updated by every connection goroutine: atomics, and only on
// events a syscall accompanies anyway (a read, a write, an accept).
type counters struct {
	accepted, open, requests, bytesIn, bytesOut   atomic.Uint64
	badRequests, rejected, panics                 atomic.Uint64
	timeoutHead, timeoutBody, timeoutIdle         atomic.Uint64
	timeoutWrite, recvErrors, sendErrors, acceptE atomic.Uint64
	paused, bodyBufferFull                        atomic.Uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Accepted: c.accepted.Load(), Open: c.open.Load(), Requests: c.requests.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		BadRequests: c.badRequests.Load(), Rejected: c.rejected.Load(), Panics: c.panics.Load(),
		TimeoutHead: c.timeoutHead.Load(), TimeoutBody: c.timeoutBody.Load(),
		TimeoutIdle: c.timeoutIdle.Load(), TimeoutWrite: c.timeoutWrite.Load(),
		RecvErrors: c.recvErrors.Load(), SendErrors: c.sendErrors.Load(),
		AcceptErrors: c.acceptE.Load(), Paused: c.paused.Load(),
		BodyBufferFull: c.bodyBufferFull.Load(), BodyBufferBytes: uint64(max(s.inHeld.Load(), 0)),
	}
}

package netpoll

import (
	"sync/atomic"
	"time"

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
	fileBytesOut                                  atomic.Uint64
	tlsHandshakes                                 [engine.NumTLSVersions]atomic.Uint64
	tlsHsFailed, tlsHsTimeouts, tlsBadRecords     atomic.Uint64
	responses                                     [engine.NumKinds][engine.NumClasses]atomic.Uint64
	durations                                     [engine.NumBuckets]atomic.Uint64
	durationSum                                   atomic.Uint64
}

// countResponse counts a response of kind and status that took d.
func (c *counters) countResponse(kind, status int, d time.Duration) {
	c.responses[kind][engine.StatusClass(status)].Add(1)
	c.durations[engine.DurationBucket(d)].Add(1)
	c.durationSum.Add(uint64(max(d, 0)))
}

// Stats returns the server's counters; those of the io_uring engine alone
// (ring, buffer group, loop turns) stay 0.
func (s *Server) Stats() engine.Stats {
	c := &s.stats
	st := engine.Stats{
		Accepted: c.accepted.Load(), Open: c.open.Load(), Requests: c.requests.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		BadRequests: c.badRequests.Load(), Rejected: c.rejected.Load(), Panics: c.panics.Load(),
		TimeoutHead: c.timeoutHead.Load(), TimeoutBody: c.timeoutBody.Load(),
		TimeoutIdle: c.timeoutIdle.Load(), TimeoutWrite: c.timeoutWrite.Load(),
		RecvErrors: c.recvErrors.Load(), SendErrors: c.sendErrors.Load(),
		AcceptErrors: c.acceptE.Load(), Paused: c.paused.Load(),
		BodyBufferFull: c.bodyBufferFull.Load(), BodyBufferBytes: uint64(max(s.inHeld.Load(), 0)),
		ProxyRefused: c.proxyRefused.Load(), FileBytesOut: c.fileBytesOut.Load(), DurationSum: c.durationSum.Load(),
	}
	for i := range st.TLSHandshakes {
		st.TLSHandshakes[i] = c.tlsHandshakes[i].Load()
	}
	st.TLSHandshakeErrors, st.TLSHandshakeTimeouts = c.tlsHsFailed.Load(), c.tlsHsTimeouts.Load()
	st.TLSBadRecords = c.tlsBadRecords.Load()
	for k := range st.Responses {
		for i := range st.Responses[k] {
			st.Responses[k][i] = c.responses[k][i].Load()
		}
	}
	for i := range st.Durations {
		st.Durations[i] = c.durations[i].Load()
	}
	return st
}

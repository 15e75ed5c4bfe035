package worker

import (
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/internal/engine"
)

// Stats is a snapshot of one worker's counters (engine.Stats: both engines
// report the same type).
type Stats = engine.Stats

// counter indexes a worker's counters.
type counter int

const (
	cAccepted        counter = iota // connections accepted
	cOpen                           // connections open now (gauge)
	cRequests                       // requests answered by a handler (or 404/405)
	cBytesIn                        // bytes received
	cBytesOut                       // bytes sent
	cBadRequests                    // requests refused by the parser (400/413/414/431/...)
	cRejected                       // connections refused over MaxConnsPerWorker (503)
	cPanics                         // handler panics answered 500
	cTimeoutHead                    // connections closed by the header timeout
	cTimeoutBody                    // ... by the body timeout
	cTimeoutIdle                    // ... by the idle timeout
	cTimeoutWrite                   // ... by the write timeout
	cRecvErrors                     // recv completions with an error (resets included)
	cSendErrors                     // send completions with an error
	cAcceptErrors                   // accept completions with an error (EMFILE included)
	cNoBufs                         // recv ENOBUFS: the buffer group ran dry
	cStaleCQEs                      // CQEs for a slot that was freed and reused
	cCQOverflows                    // times the CQ overflowed
	cPaused                         // times reading was paused for backpressure
	cCancels                        // async cancels submitted (of recv, send, accept, timer, wakeup)
	cLoops                          // loop turns (io_uring_enter calls)
	cBufsInUse                      // pool buffers held by connections (gauge)
	cBufBytesMapped                 // bytes of buffer memory mapped (gauge)
	cBodyBufferFull                 // requests answered 503: the budget for buffered input was spent
	cBodyBufferBytes                // bytes of input buffers held by connections (gauge)
	cRecvBufsHeld                   // receive-group buffers taken from the kernel, not yet recycled (gauge)
	cProxyRefused                   // connections closed for a missing or malformed PROXY header
	cFileBytesOut                   // bytes sent with sendfile (Stream.SendFile)
	cKTLSConns                      // TLS connections handed to kernel TLS (ktls.go)
	cTLSHsFailed                    // TLS handshakes that failed (not by their timeout)
	cTLSHsTimeouts                  // TLS handshakes not done within HandshakeTimeout
	cTLSBadRecords                  // TLS records refused after the handshake (alert, close)
	cTLSHandshakes                  // first of NumTLSVersions: TLS handshakes completed by version
)

const (
	cResponses   = cTLSHandshakes + counter(engine.NumTLSVersions)         // first of NumKinds*NumClasses: responses by kind and status class
	cDurations   = cResponses + counter(engine.NumKinds*engine.NumClasses) // first of NumBuckets
	cDurationSum = cDurations + counter(engine.NumBuckets)                 // nanoseconds
	nCounters    = cDurationSum + 1
)

// countResponse counts a response of kind and status that took d.
func (s *stats) countResponse(kind, status int, d time.Duration) {
	s.c[cResponses+counter(kind*engine.NumClasses+engine.StatusClass(status))]++
	s.c[cDurations+counter(engine.DurationBucket(d))]++
	s.c[cDurationSum] += uint64(max(d, 0))
}

// stats is the worker's counters: the owning worker counts in plain fields
// (hot path: no atomics) and publishes them with atomic stores once per loop
// turn; other goroutines read only the published copy. The published array is
// padded so that it shares no cache line with another worker's.
type stats struct {
	c         [nCounters]uint64
	_         [64]byte
	published [nCounters]atomic.Uint64
	_         [64]byte
}

func (s *stats) inc(c counter)           { s.c[c]++ }
func (s *stats) add(c counter, n uint64) { s.c[c] += n }

// publish copies the counters for readers. Called by the owner only.
func (s *stats) publish() {
	for i := range s.c {
		if s.published[i].Load() != s.c[i] {
			s.published[i].Store(s.c[i])
		}
	}
}

// snapshot reads the published counters; safe from any goroutine.
func (s *stats) snapshot() Stats {
	var v [nCounters]uint64
	for i := range v {
		v[i] = s.published[i].Load()
	}
	st := Stats{
		Accepted: v[cAccepted], Open: v[cOpen], Requests: v[cRequests],
		BytesIn: v[cBytesIn], BytesOut: v[cBytesOut], BadRequests: v[cBadRequests],
		Rejected: v[cRejected], Panics: v[cPanics], TimeoutHead: v[cTimeoutHead],
		TimeoutBody: v[cTimeoutBody], TimeoutIdle: v[cTimeoutIdle],
		TimeoutWrite: v[cTimeoutWrite], RecvErrors: v[cRecvErrors],
		SendErrors: v[cSendErrors], AcceptErrors: v[cAcceptErrors], NoBufs: v[cNoBufs],
		StaleCQEs: v[cStaleCQEs], CQOverflows: v[cCQOverflows], Paused: v[cPaused],
		Loops: v[cLoops], Cancels: v[cCancels], BuffersInUse: v[cBufsInUse], BufferBytesMapped: v[cBufBytesMapped],
		BodyBufferFull: v[cBodyBufferFull], BodyBufferBytes: v[cBodyBufferBytes],
		RecvBuffersHeld: v[cRecvBufsHeld], ProxyRefused: v[cProxyRefused], FileBytesOut: v[cFileBytesOut],
		TLSHandshakeErrors: v[cTLSHsFailed], TLSHandshakeTimeouts: v[cTLSHsTimeouts],
		TLSBadRecords: v[cTLSBadRecords], KTLSConns: v[cKTLSConns], DurationSum: v[cDurationSum],
	}
	copy(st.TLSHandshakes[:], v[cTLSHandshakes:])
	for k := range st.Responses {
		copy(st.Responses[k][:], v[cResponses+counter(k*engine.NumClasses):])
	}
	copy(st.Durations[:], v[cDurations:])
	return st
}

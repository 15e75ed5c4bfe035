package engine

import (
	"crypto/tls"
	"time"
)

// Handler kinds, the first index of Stats.Responses.
const (
	KindPlain   = iota // answered on the engine's loop: plain handlers, 404, 405, redirects, refusals
	KindOffload        // answered on the offload pool: blocking and net/http handlers
	NumKinds
)

// NumClasses is the second index of Stats.Responses: 1xx to 5xx, then
// anything else (a status the producer never set counts there).
const NumClasses = 6

// StatusClass is status's index in Stats.Responses.
func StatusClass(status int) int {
	if status < 100 || status >= 600 {
		return NumClasses - 1
	}
	return status/100 - 1
}

// DurationBounds are the upper bounds of the request duration histogram
// (Stats.Durations), from a request's first bytes to its response handed to
// the socket. The io_uring engine measures inline requests with the time
// of its loop turns: one read and answered in one turn takes 0.
var DurationBounds = [...]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, time.Second, 5 * time.Second,
}

// NumBuckets is len(Stats.Durations): one per bound and one above them all.
const NumBuckets = len(DurationBounds) + 1

// DurationBucket is d's index in Stats.Durations.
func DurationBucket(d time.Duration) int {
	for i, b := range DurationBounds {
		if d <= b {
			return i
		}
	}
	return NumBuckets - 1
}

// NumTLSVersions is len(Stats.TLSHandshakes): TLS 1.0 to 1.3.
const NumTLSVersions = 4

// TLSVersionIndex is version's index in Stats.TLSHandshakes (a version
// out of that range counts as the nearest one).
func TLSVersionIndex(version uint16) int {
	return min(max(int(version)-tls.VersionTLS10, 0), NumTLSVersions-1)
}

// Stats is a snapshot of one worker's counters, the same for both engines (a
// netpoll worker leaves the io_uring ones at 0). Counters only grow, except
// the gauges Open, BuffersInUse and BufferBytesMapped.
type Stats struct {
	Accepted, Open, Requests, BytesIn, BytesOut         uint64
	BadRequests, Rejected, Panics                       uint64
	TimeoutHead, TimeoutBody, TimeoutIdle, TimeoutWrite uint64
	RecvErrors, SendErrors, AcceptErrors                uint64
	NoBufs, StaleCQEs, CQOverflows, Paused, Loops       uint64
	Cancels                                             uint64
	// BuffersInUse counts the input/output buffers connections hold now (an
	// idle connection holds none); BufferBytesMapped is the memory mapped
	// for them, kept for reuse. Both are gauges.
	BuffersInUse, BufferBytesMapped uint64
	// BodyBufferFull counts requests answered 503 because the worker's
	// input buffers (unfinished requests, their bodies above all) would
	// have passed Config.MaxBodyBufferPerWorker; BodyBufferBytes is what
	// they hold now (a gauge).
	BodyBufferFull, BodyBufferBytes uint64
	// RecvBuffersHeld is the receive-group buffers the kernel handed over
	// and the worker has not given back (a gauge: 0 between loop turns;
	// more means a buffer leaked from the group).
	RecvBuffersHeld uint64
	// ProxyRefused counts connections from a Config.ProxyFrom address closed
	// because they did not begin with a valid PROXY header.
	ProxyRefused uint64
	// FileBytesOut counts the bytes sent from files with sendfile(2)
	// (Stream.SendFile); BytesOut includes them.
	FileBytesOut uint64
	// TLSHandshakes counts the TLS handshakes completed, by version
	// (TLSVersionIndex). TLSHandshakeErrors counts those that failed
	// otherwise than by a timeout: no ClientHello (garbage, a cleartext
	// request), no common parameters, a refused client certificate, a
	// client gone mid-handshake or a server shutting down; those not done
	// within Config.HandshakeTimeout are TLSHandshakeTimeouts.
	TLSHandshakes                            [NumTLSVersions]uint64
	TLSHandshakeErrors, TLSHandshakeTimeouts uint64
	// TLSBadRecords counts the records refused after a handshake (failed
	// authentication, too long, of a type not allowed there, a bad
	// KeyUpdate): each is answered with an alert and a close.
	TLSBadRecords uint64
	// KTLSConns counts the TLS connections handed to kernel TLS (the
	// io_uring engine with Config.DisableKTLS off, on a kernel with the
	// tls module).
	KTLSConns uint64
	// Responses counts the responses by handler kind (KindPlain,
	// KindOffload) and status class (StatusClass).
	Responses [NumKinds][NumClasses]uint64
	// Durations counts requests by duration (DurationBucket; not
	// cumulative), DurationSum adds their durations up (nanoseconds).
	Durations   [NumBuckets]uint64
	DurationSum uint64
}

// Add accumulates o into s (for totals over workers).
func (s *Stats) Add(o Stats) {
	s.Accepted += o.Accepted
	s.Open += o.Open
	s.Requests += o.Requests
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.BadRequests += o.BadRequests
	s.Rejected += o.Rejected
	s.Panics += o.Panics
	s.TimeoutHead += o.TimeoutHead
	s.TimeoutBody += o.TimeoutBody
	s.TimeoutIdle += o.TimeoutIdle
	s.TimeoutWrite += o.TimeoutWrite
	s.RecvErrors += o.RecvErrors
	s.SendErrors += o.SendErrors
	s.AcceptErrors += o.AcceptErrors
	s.NoBufs += o.NoBufs
	s.StaleCQEs += o.StaleCQEs
	s.CQOverflows += o.CQOverflows
	s.Paused += o.Paused
	s.Loops += o.Loops
	s.Cancels += o.Cancels
	s.BuffersInUse += o.BuffersInUse
	s.BufferBytesMapped += o.BufferBytesMapped
	s.BodyBufferFull += o.BodyBufferFull
	s.BodyBufferBytes += o.BodyBufferBytes
	s.RecvBuffersHeld += o.RecvBuffersHeld
	s.ProxyRefused += o.ProxyRefused
	s.FileBytesOut += o.FileBytesOut
	for i := range s.TLSHandshakes {
		s.TLSHandshakes[i] += o.TLSHandshakes[i]
	}
	s.TLSHandshakeErrors += o.TLSHandshakeErrors
	s.TLSHandshakeTimeouts += o.TLSHandshakeTimeouts
	s.TLSBadRecords += o.TLSBadRecords
	s.KTLSConns += o.KTLSConns
	for k := range s.Responses {
		for c := range s.Responses[k] {
			s.Responses[k][c] += o.Responses[k][c]
		}
	}
	for i := range s.Durations {
		s.Durations[i] += o.Durations[i]
	}
	s.DurationSum += o.DurationSum
}

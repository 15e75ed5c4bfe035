package metrics

import (
	"strconv"

	"github.com/uringd/uringd"
)

// stats is the table of what /metrics exports from uringd.Stats: one
// family per entry, in this order. A new Stats field is one line here (a
// new family, or a by() member of a labelled one), and the tests check
// every entry against Prometheus' parser. Names follow the Prometheus
// conventions: base units (bytes, seconds), counters end in _total,
// gauges say what they hold now.
//
// The lines the coming Stats fields take, for example:
//
//	counterBy("uringd_responses_total", "Responses by status class and handler kind.", "", perWorker,
//		byLabels(func(s *ws) uint64 { return s.Status2xxPlain }, "class", "2xx", "handler", "plain"), ...),
//	histogram("uringd_request_duration_seconds", "Time from the request head to the response.", total,
//		func(s *ws) HistogramValue { return HistogramValue{Bounds: durationBounds, Counts: s.Duration[:], Sum: s.DurationSeconds()} }),
//	gauge("uringd_offload_queue_depth", "Blocking requests waiting for a goroutine.", total, func(s *ws) uint64 { return s.OffloadQueued }),
var stats = []family{
	counter("uringd_connections_accepted_total", "Connections accepted.", perWorker, func(s *ws) uint64 { return s.Accepted }),
	gauge("uringd_connections_open", "Connections open now.", perWorker, func(s *ws) uint64 { return s.Open }),
	counter("uringd_connections_rejected_total", "Connections refused with 503 because the worker had its maximum open (-max-conns).", total, func(s *ws) uint64 { return s.Rejected }),
	counter("uringd_requests_total", "Requests answered by a handler (404 and 405 included; requests the parser refused are uringd_errors_total{kind=\"bad_request\"}).", perWorker, func(s *ws) uint64 { return s.Requests }),
	counterBy("uringd_responses_total", "Responses by status class and handler kind: plain (on the event loop, with 404, 405, redirects and refusals) or offload (blocking and net/http handlers, on the offload pool).", "", total, responseMembers()...),
	histogram("uringd_request_duration_seconds", "Time from a request's first bytes to its response handed to the socket (the io_uring engine counts inline requests in loop turns: one read and answered in one turn is 0).", total,
		func(s *ws) HistogramValue {
			return HistogramValue{Bounds: durationBounds, Counts: s.Durations[:], Sum: float64(s.DurationSum) / 1e9}
		}),
	counter("uringd_bytes_received_total", "Bytes received from clients.", perWorker, func(s *ws) uint64 { return s.BytesIn }),
	counter("uringd_bytes_sent_total", "Bytes sent to clients.", perWorker, func(s *ws) uint64 { return s.BytesOut }),
	counter("uringd_file_bytes_sent_total", "Bytes sent straight from files with sendfile(2) (included in uringd_bytes_sent_total).", total, func(s *ws) uint64 { return s.FileBytesOut }),
	counterBy("uringd_errors_total", "Errors by kind: requests the parser refused (400, 413, 414, 431...), handler panics answered 500, failed recv, send and accept completions (resets and EMFILE included).", "kind", total,
		by("bad_request", func(s *ws) uint64 { return s.BadRequests }),
		by("handler_panic", func(s *ws) uint64 { return s.Panics }),
		by("recv", func(s *ws) uint64 { return s.RecvErrors }),
		by("send", func(s *ws) uint64 { return s.SendErrors }),
		by("accept", func(s *ws) uint64 { return s.AcceptErrors }),
	),
	counterBy("uringd_timeouts_total", "Connections closed by a timeout: the request head's, the body's (or its minimum rate), keep-alive idle, or output making no progress.", "kind", total,
		by("head", func(s *ws) uint64 { return s.TimeoutHead }),
		by("body", func(s *ws) uint64 { return s.TimeoutBody }),
		by("idle", func(s *ws) uint64 { return s.TimeoutIdle }),
		by("write", func(s *ws) uint64 { return s.TimeoutWrite }),
	),
	counterBy("uringd_tls_handshakes_total", "TLS handshakes completed, by protocol version.", "version", total, tlsVersionMembers()...),
	counterBy("uringd_tls_handshake_failures_total", "TLS handshakes that did not complete: error (no ClientHello, a cleartext request, no common parameters, a refused client certificate, a client gone mid-handshake, a shutdown) or timeout (the handshake timeout passed).", "kind", total,
		by("error", func(s *ws) uint64 { return s.TLSHandshakeErrors }),
		by("timeout", func(s *ws) uint64 { return s.TLSHandshakeTimeouts }),
	),
	counter("uringd_tls_bad_records_total", "TLS records refused after the handshake (failed authentication, too long, not allowed there), each answered with an alert and a close.", total, func(s *ws) uint64 { return s.TLSBadRecords }),
	counter("uringd_ktls_connections_total", "TLS connections handed to kernel TLS (the kernel seals and opens their records).", total, func(s *ws) uint64 { return s.KTLSConns }),
	counter("uringd_proxy_refused_total", "Connections from a -proxy-from address closed because they did not begin with a valid PROXY header.", total, func(s *ws) uint64 { return s.ProxyRefused }),
	counter("uringd_body_buffer_full_total", "Requests answered 503 because the worker's budget for buffered request input (-max-body-buffer) was spent.", total, func(s *ws) uint64 { return s.BodyBufferFull }),
	gauge("uringd_body_buffer_bytes", "Bytes of request input held for requests still arriving (the budget of -max-body-buffer).", perWorker, func(s *ws) uint64 { return s.BodyBufferBytes }),
	gauge("uringd_buffers_in_use", "Input and output buffers held by connections now (an idle connection holds none).", perWorker, func(s *ws) uint64 { return s.BuffersInUse }),
	gauge("uringd_buffer_mapped_bytes", "Bytes of buffer memory mapped for connections, kept for reuse.", perWorker, func(s *ws) uint64 { return s.BufferBytesMapped }),
	gauge("uringd_recv_buffers_held", "Receive-group buffers taken from the kernel and not yet given back (0 between loop turns; more means a leak).", total, func(s *ws) uint64 { return s.RecvBuffersHeld }),
	counter("uringd_read_pauses_total", "Times a connection's reading was paused because its unsent output passed -max-pending-output.", total, func(s *ws) uint64 { return s.Paused }),
	counter("uringd_loop_iterations_total", "Event loop turns (one io_uring_enter each).", perWorker, func(s *ws) uint64 { return s.Loops }),
	counter("uringd_iouring_no_buffers_total", "Receives that found the buffer group empty (ENOBUFS) and were re-armed.", total, func(s *ws) uint64 { return s.NoBufs }),
	counter("uringd_iouring_cq_overflows_total", "Times the completion queue overflowed into the kernel's list.", total, func(s *ws) uint64 { return s.CQOverflows }),
	counter("uringd_iouring_stale_completions_total", "Completions for a connection slot that had been freed and reused (ignored).", total, func(s *ws) uint64 { return s.StaleCQEs }),
	counter("uringd_iouring_cancels_total", "Asynchronous cancels submitted (of recv, send, accept, timer, wakeup).", total, func(s *ws) uint64 { return s.Cancels }),
}

type ws = uringd.WorkerStats

// durationBounds are uringd.DurationBounds in seconds.
var durationBounds = func() []float64 {
	b := make([]float64, len(uringd.DurationBounds))
	for i, d := range uringd.DurationBounds {
		b[i] = d.Seconds()
	}
	return b
}()

// responseMembers are the series of uringd_responses_total: every handler
// kind and status class.
func responseMembers() []member {
	kinds := []string{"plain", "offload"}
	classes := []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
	var ms []member
	for k, kind := range kinds {
		for c, class := range classes {
			ms = append(ms, byLabels(func(s *ws) uint64 { return s.Responses[k][c] }, "handler", kind, "class", class))
		}
	}
	return ms
}

// tlsVersionMembers are the series of uringd_tls_handshakes_total, named
// as nginx's $ssl_protocol names the versions.
func tlsVersionMembers() []member {
	ms := make([]member, len(ws{}.TLSHandshakes))
	for i := range ms {
		name := "TLSv1"
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		ms[i] = by(name, func(s *ws) uint64 { return s.TLSHandshakes[i] })
	}
	return ms
}

// scope says where a family's series come from: the sum over the workers
// (one series), or each worker (one series per worker, labelled worker="N";
// sum() over them is the server's).
type scope bool

const (
	total     scope = false
	perWorker scope = true
)

// family is one metric family of the table: a single value, values told
// apart by a label (members), or a histogram.
type family struct {
	name, help string
	typ        Type
	scope      scope
	label      string   // the label by() members differ by; "" otherwise
	members    []member // Counter and Gauge families
	hist       func(*ws) HistogramValue
}

// member is one value of a family: its value of the family's label (by),
// or labels of its own (byLabels), and how to read it.
type member struct {
	value  string
	labels []Label
	get    func(*ws) uint64
}

func by(value string, get func(*ws) uint64) member { return member{value: value, get: get} }

// byLabels is a member told apart by several labels, name and value
// pairs: byLabels(get, "class", "2xx", "handler", "blocking").
func byLabels(get func(*ws) uint64, kv ...string) member {
	m := member{get: get}
	for i := 0; i+1 < len(kv); i += 2 {
		m.labels = append(m.labels, Label{Name: kv[i], Value: kv[i+1]})
	}
	return m
}

func counter(name, help string, sc scope, get func(*ws) uint64) family {
	return family{name: name, help: help, typ: Counter, scope: sc, members: []member{{get: get}}}
}

func gauge(name, help string, sc scope, get func(*ws) uint64) family {
	return family{name: name, help: help, typ: Gauge, scope: sc, members: []member{{get: get}}}
}

func counterBy(name, help, label string, sc scope, ms ...member) family {
	return family{name: name, help: help, typ: Counter, scope: sc, label: label, members: ms}
}

func gaugeBy(name, help, label string, sc scope, ms ...member) family {
	return family{name: name, help: help, typ: Gauge, scope: sc, label: label, members: ms}
}

func histogram(name, help string, sc scope, get func(*ws) HistogramValue) family {
	return family{name: name, help: help, typ: Histogram, scope: sc, hist: get}
}

// writeStats writes every family of fams from one snapshot st.
func writeStats(w *textWriter, fams []family, st *uringd.Stats) {
	workers := make([]Label, len(st.Workers))
	for i := range workers {
		workers[i] = Label{Name: "worker", Value: strconv.Itoa(i)}
	}
	var labels []Label
	for i := range fams {
		f := &fams[i]
		w.family(f.name, f.help, f.typ)
		if f.scope == total {
			f.write(w, labels[:0], &st.Total)
			continue
		}
		for i := range st.Workers {
			labels = append(labels[:0], workers[i])
			f.write(w, labels, &st.Workers[i])
		}
	}
}

// write writes f's series for one set of stats, with the labels of the
// scope first.
func (f *family) write(w *textWriter, labels []Label, s *ws) {
	if f.typ == Histogram {
		w.histogram(f.name, labels, f.hist(s))
		return
	}
	n := len(labels)
	for _, m := range f.members {
		labels = labels[:n]
		if f.label != "" && m.value != "" {
			labels = append(labels, Label{Name: f.label, Value: m.value})
		}
		w.uint(f.name, append(labels, m.labels...), m.get(s))
	}
}

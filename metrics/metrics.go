// Package metrics serves a uringd server's counters to Prometheus, and the
// health checks a load balancer or an orchestrator polls, on a listener of
// their own (plain net/http: a scrape every few seconds is not the hot
// path):
//
//	/metrics   the Prometheus text exposition format (version 0.0.4)
//	/healthz   200 while the process serves
//	/readyz    200 once the server serves; 503 before, and from the moment
//	           its graceful shutdown starts (Handler.Drain), so that a load
//	           balancer stops sending before the connections close
//
// The numbers are the workers' own counters, read at scrape time through
// Server.Stats (each worker publishes its counters once per loop turn):
// nothing is counted twice and nothing is added to the request path. This
// is why the package writes the text format itself rather than keep a
// client_golang registry, whose counters would be a second copy.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/uring"
)

// Source is what the handler reads at scrape time; *uringd.Server is one.
type Source interface {
	Stats() uringd.Stats
	Features() uring.Features
	Engine() uringd.Engine
}

// State is the readiness /readyz reports.
type State int32

const (
	Starting State = iota // not serving yet: /readyz 503
	Ready                 // serving: /readyz 200
	Draining              // the graceful shutdown started: /readyz 503
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Ready:
		return "ready"
	case Draining:
		return "draining"
	}
	return "unknown"
}

// Handler serves /metrics, /healthz and /readyz for one server. Its
// methods are safe for concurrent use.
type Handler struct {
	src   Source
	state atomic.Int32 // a State
	mux   http.ServeMux
	bufs  sync.Pool // *[]byte: one scrape's output, reused by the next
}

// New returns a handler for src in state Starting: call SetReady once src
// serves, and Drain when its shutdown begins.
func New(src Source) *Handler {
	h := &Handler{src: src}
	h.mux.HandleFunc("GET /metrics", h.metrics)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /readyz", h.readyz)
	return h
}

// SetReady makes /readyz answer 200, unless Drain came first (a shutdown
// never becomes ready again).
func (h *Handler) SetReady() { h.state.CompareAndSwap(int32(Starting), int32(Ready)) }

// Drain makes /readyz answer 503 from now on.
func (h *Handler) Drain() { h.state.Store(int32(Draining)) }

// State reports the readiness.
func (h *Handler) State() State { return State(h.state.Load()) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) metrics(w http.ResponseWriter, _ *http.Request) {
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	tw := textWriter{b: (*bp)[:0]}
	h.write(&tw)
	w.Header().Set("Content-Type", ContentType)
	w.Write(tw.b)
	*bp = tw.b
	h.bufs.Put(bp)
}

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	st := h.State()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if st != Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write([]byte(st.String() + "\n"))
}

// write writes one scrape: the Stats table, then what describes the server.
func (h *Handler) write(w *textWriter) {
	st := h.src.Stats()
	writeStats(w, stats, &st)

	w.family("uringd_access_log_dropped_total", "Access log lines dropped because the destination could not keep up (-access-log).", Counter)
	w.uint("uringd_access_log_dropped_total", nil, st.AccessLogDropped)
	w.family("uringd_offload_running", "Blocking and net/http handlers running on the offload pool now.", Gauge)
	w.uint("uringd_offload_running", nil, uint64(st.OffloadRunning))
	w.family("uringd_offload_queued", "Blocking and net/http requests waiting for an offload goroutine.", Gauge)
	w.uint("uringd_offload_queued", nil, uint64(st.OffloadQueued))
	w.family("uringd_workers", "Event loops serving (accept loops with the netpoll engine).", Gauge)
	w.uint("uringd_workers", nil, uint64(len(st.Workers)))

	w.family("uringd_ready", "1 while /readyz answers 200, 0 while starting or draining.", Gauge)
	w.uint("uringd_ready", nil, b2u(h.State() == Ready))

	w.family("uringd_engine_info", "The engine serving (always 1; the engine is the label).", Gauge)
	w.uint("uringd_engine_info", []Label{{"engine", h.src.Engine().String()}}, 1)

	// Every feature uringd knows, 1 if the rings use it: a 0 says which
	// fallback path is serving (all 0 on the netpoll engine).
	used := h.src.Features()
	w.family("uringd_iouring_feature", "io_uring features the workers' rings use (1) or do without (0).", Gauge)
	for f := uring.Feature(1); uring.AllFeatures.Has(f); f <<= 1 {
		w.uint("uringd_iouring_feature", []Label{{"feature", f.String()}}, b2u(used.Has(f)))
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

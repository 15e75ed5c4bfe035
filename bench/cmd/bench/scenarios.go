package main

import (
	"fmt"
	"time"
)

// loadCase is one measured configuration within a scenario.
type loadCase struct {
	label   string
	workers int  // server workers; 0 means one per CPU
	pinned  bool // server on CPU 0 and wrk (one thread) on CPU 1; else both unpinned
	threads int  // wrk threads when unpinned; 0: one per CPU
	conns   int
	path    string
	script  string   // "pipeline" or "upload" (see wrk.go); "" for plain GETs
	headers []string // extra wrk -H headers
	idle    int      // > 0: hold this many idle connections instead of running wrk
	quota   float64  // > 0: the server is confined to this many CPUs (quota.go)
	https   bool     // over TLS (tls.go): only servers with tlsArgs run it
	// noTickets: the servers issue no session tickets, so that every
	// connection is a full handshake (wrk resumes sessions otherwise).
	noTickets bool
}

// scenario is one of the issues' measurements (the quota variant of the
// first among them).
type scenario struct {
	id, title, about string
	cases            []loadCase
	table            []metricID           // columns of the report table
	chart            []metricID           // one chart panel per metric
	needs            func(*server) string // why a server cannot run it, or ""
}

var throughput = []metricID{mRPS, mP50, mP99, mCPU}

func anyServer(*server) string { return "" }

// scenarios returns the eight scenarios; idleConns is the idle scenario's
// connection count (10,000 normally, fewer in quick mode).
func scenarios(idleConns int) []scenario {
	oneCore := func(label string, conns int) loadCase {
		return loadCase{label: label, workers: 1, pinned: true, conns: conns, path: "/"}
	}
	sweep := []loadCase{}
	for _, n := range []int{1, 40, 400, 4000} {
		sweep = append(sweep, oneCore(fmt.Sprintf("%d conns", n), n))
	}
	return []scenario{
		{id: "single", title: "One core, non-pipelined",
			about: "GET / from 40 keep-alive connections; server pinned to CPU 0 with one worker " +
				"(GOMAXPROCS=1 for Go servers), wrk with one thread pinned to CPU 1.",
			cases: []loadCase{oneCore("40 conns", 40)}, table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "quota", title: "One core at half a CPU, non-pipelined",
			about: "As the first scenario, with the server confined to half a CPU by a CFS quota " +
				"(cgroup cpu: 50 ms per 100 ms). wrk is no longer the bottleneck, so requests/s measures the server.",
			cases: []loadCase{{label: "40 conns, 0.5 CPU", workers: 1, pinned: true, conns: 40, path: "/", quota: 0.5}},
			table: throughput, chart: []metricID{mRPS, mCPU},
			needs: func(*server) string { return quotaUnavailable() }},
		{id: "pipelined", title: "One core, pipelined 16 deep",
			about: "As above with 256 connections, each writing 16 GET / requests at a time (wrk Lua script); " +
				"latency is per batch of 16.",
			cases: []loadCase{{label: "256 conns x16", workers: 1, pinned: true, conns: 256, path: "/", script: "pipeline"}},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "sweep", title: "Connection sweep",
			about: "One core as in the first scenario, with 1, 40, 400 and 4000 keep-alive connections " +
				"(file-descriptor limit raised by the harness).",
			cases: sweep, table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "fibonacci", title: "CPU-bound /fibonacci, 1 worker vs all",
			about: "GET /fibonacci (fibonacci(10^6) in uint32 per request), 40 connections: one worker pinned " +
				"to CPU 0 with wrk on CPU 1, then one worker per CPU with wrk unpinned (one thread per CPU). " +
				"Scaling is the all-workers requests/s over the one-worker requests/s.",
			cases: []loadCase{
				{label: "1 worker", workers: 1, pinned: true, conns: 40, path: "/fibonacci"},
				{label: "all workers", workers: 0, conns: 40, path: "/fibonacci"},
			},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "shared2", title: "Two workers sharing the CPUs with the load",
			about: "GET / from 40 keep-alive connections; every server with 2 workers (GOMAXPROCS=2 for Go " +
				"servers, THREADS=2 for the C reference) and wrk with 2 threads, nobody pinned: on a 2-CPU " +
				"machine the four busy threads share both CPUs, so wakeups, migrations and the runtime's " +
				"own threads count, as they do when a server shares its cores with other work.",
			cases: []loadCase{{label: "40 conns, 2 workers", workers: 2, threads: 2, conns: 40, path: "/"}},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "idle", title: "Memory with idle keep-alive connections",
			about: fmt.Sprintf("The harness opens %d keep-alive connections, completes one GET / on each and "+
				"leaves them idle; server VmRSS before and after, per connection. One worker, pinned.", idleConns),
			cases: []loadCase{{label: fmt.Sprintf("%d idle", idleConns), workers: 1, pinned: true, idle: idleConns}},
			table: []metricID{mRSSBase, mRSS, mPerConn}, chart: []metricID{mPerConn}, needs: anyServer},
		{id: "churn", title: "Connection churn",
			about: "Every request on a new connection (Connection: close; the server closes after answering), " +
				"40 concurrent wrk connections, one core as above.",
			cases: []loadCase{{label: "40 conns, close", workers: 1, pinned: true, conns: 40, path: "/",
				headers: []string{"Connection: close"}}},
			table: throughput, chart: []metricID{mRPS, mCPU},
			needs: func(s *server) string {
				if !s.closeAware {
					return "ignores Connection: close (keeps the connection), so it would not churn"
				}
				return ""
			}},
		{id: "https", title: "HTTPS, one core, non-pipelined",
			about: "As the first scenario over TLS 1.3 (wrk's OpenSSL; ECDSA P-256 certificate, X25519): " +
				"40 keep-alive connections, GET /.",
			cases: []loadCase{tlsCase(oneCore("40 conns", 40))}, table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "https-pipelined", title: "HTTPS, one core, pipelined 16 deep",
			about: "The pipelined scenario over TLS: 256 connections, 16 GET / per write.",
			cases: []loadCase{tlsCase(loadCase{label: "256 conns x16", workers: 1, pinned: true, conns: 256, path: "/", script: "pipeline"})},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "handshake", title: "HTTPS, a full handshake per request",
			about: "40 wrk connections, Connection: close on every request, so every request pays a TLS 1.3 handshake " +
				"(ECDSA P-256 signature, X25519) and a TCP connection. wrk would resume the session of the " +
				"connection it replaces (its OpenSSL keeps it), so every server runs with session tickets off " +
				"(-tls-no-tickets; nginx ssl_session_tickets off and ssl_session_cache off), and the check " +
				"verifies that a second connection does not resume. req/s is handshakes/s.",
			cases: []loadCase{func() loadCase {
				lc := tlsCase(oneCore("40 conns, close", 40))
				lc.headers, lc.noTickets = []string{"Connection: close"}, true
				return lc
			}()},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "https-download", title: "HTTPS download of a 1 MiB file",
			about: "GET of a 1 MiB file (random bytes) over TLS from 40 keep-alive connections, one core: " +
				"nginx from its root, uringd -root, net/http's FileServer, fasthttp.FS. Without kTLS every byte is " +
				"encrypted in user space, so this is mostly AES-GCM.",
			cases: []loadCase{tlsCase(loadCase{label: "40 conns, 1 MiB", workers: 1, pinned: true, conns: 40, path: "/" + downloadFile})},
			table: throughput, chart: []metricID{mRPS, mCPU}, needs: anyServer},
		{id: "upload", title: "1 MiB uploads to /echo",
			about: "POST /echo with 1 MiB bodies from 40 connections, one core as above; the body comes back. " +
				"Peak RSS (VmHWM) shows whether memory stays bounded under traffic.",
			cases: []loadCase{{label: "40 conns, 1 MiB", workers: 1, pinned: true, conns: 40, path: "/echo", script: "upload"}},
			table: []metricID{mRPS, mP50, mP99, mCPU, mHWM}, chart: []metricID{mRPS, mHWM},
			needs: func(s *server) string {
				if !s.echo {
					return "has no POST /echo (GET-only)"
				}
				return ""
			}},
	}
}

func tlsCase(lc loadCase) loadCase {
	lc.https = true
	return lc
}

// caseNeeds says why a server cannot run a case (TLS or not), or "".
func caseNeeds(lc loadCase, s *server) string {
	switch {
	case lc.https && s.tlsArgs == nil:
		return "not set up for TLS in this harness"
	case !lc.https && s.args == nil:
		return "measured in the TLS scenarios only"
	}
	return ""
}

// plannedSeconds estimates one run's wall time, for the progress line.
func (c loadCase) plannedSeconds(warmup, duration time.Duration) float64 {
	const startAndCheck = 0.5
	if c.idle > 0 {
		return startAndCheck + float64(c.idle)/4000
	}
	return startAndCheck + warmup.Seconds() + duration.Seconds()
}

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// noisyCPU is the share of one CPU used by other processes above which a run
// is flagged as disturbed (tick granularity and the harness itself stay below).
const noisyCPU = 0.05

// retryCPU is the share of one CPU used by other processes above which a run
// is repeated once (outside quick mode, where timings do not matter).
const retryCPU = 0.2

// resultKey names one cell of the results: a server in a case of a scenario.
type resultKey struct{ scenario, label, server string }

// runner executes the selected scenarios and keeps every sample and failure.
type runner struct {
	cfg         config
	servers     []*server // selected and built, in report order
	scripts     map[string]string
	logDir      string
	tls         *tlsFiles // certificate and files of the TLS scenarios; nil when none is selected
	results     map[resultKey][]sample
	skipped     map[resultKey]string         // servers a scenario cannot run, with the reason
	negotiated  map[string]map[string]string // TLS scenario -> server -> what checkTLS saw
	failures    []string
	interrupted bool // stopped by a signal: the report is partial
	prog        *progress
}

// job is one measured run: a server in a case of a scenario, at a repetition.
type job struct {
	sc  scenario
	lc  loadCase
	srv *server
	rep int
}

// runAll measures every (scenario, case, server) cfg.reps times. Within a
// scenario the servers alternate on every repetition, so slow drifts of the
// machine (thermal, background work) spread over all of them alike.
func (r *runner) runAll(ctx context.Context, scs []scenario) {
	r.results = map[resultKey][]sample{}
	r.skipped = map[resultKey]string{}
	r.negotiated = map[string]map[string]string{}
	r.prog = newProgress()
	jobs := r.plan(scs)
	for i, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		r.prog.announce(i+1, len(jobs), fmt.Sprintf("%s · %s · %s · rep %d/%d",
			j.sc.id, j.lc.label, j.srv.name, j.rep, r.cfg.reps))
		r.runOne(ctx, j)
		r.prog.done(j.lc.plannedSeconds(r.cfg.warmup, r.cfg.duration))
	}
	if ctx.Err() != nil {
		r.interrupted = true
		r.failures = append(r.failures, "interrupted: "+ctx.Err().Error())
	}
}

// plan lists the runs in order and records which servers sit out which
// scenario, and why.
func (r *runner) plan(scs []scenario) []job {
	var jobs []job
	for _, sc := range scs {
		for rep := 1; rep <= r.cfg.reps; rep++ {
			for _, lc := range sc.cases {
				for _, s := range r.servers {
					if s.uploadOnly && sc.id != "upload" {
						r.skipped[resultKey{sc.id, lc.label, s.name}] = "an /echo variant, measured in the upload scenario only"
						continue
					}
					why := caseNeeds(lc, s)
					if why == "" {
						why = sc.needs(s)
					}
					if why != "" {
						r.skipped[resultKey{sc.id, lc.label, s.name}] = why
						continue
					}
					jobs = append(jobs, job{sc, lc, s, rep})
					r.prog.plan(lc.plannedSeconds(r.cfg.warmup, r.cfg.duration))
				}
			}
		}
	}
	return jobs
}

// runOne measures one job and records its sample or its failure.
func (r *runner) runOne(ctx context.Context, j job) {
	s, err := r.measure(ctx, j.sc.id, j.lc, j.srv)
	if ctx.Err() != nil {
		return // interrupted: wrk was killed, the figures mean nothing
	}
	if err == nil && !r.cfg.quick && s.otherCPU > retryCPU {
		// A run disturbed by other work on the machine is repeated once and
		// the less disturbed of the two kept; the report flags what remains.
		fmt.Fprintf(os.Stderr, "  disturbed: other processes used %.0f%% of a CPU; repeating once\n", 100*s.otherCPU)
		if s2, err2 := r.measure(ctx, j.sc.id, j.lc, j.srv); err2 == nil && s2.otherCPU < s.otherCPU {
			s = s2
		}
	}
	if err != nil {
		msg := fmt.Sprintf("%s / %s / %s rep %d: %v", j.sc.id, j.lc.label, j.srv.name, j.rep, err)
		r.failures = append(r.failures, msg)
		fmt.Fprintln(os.Stderr, "  FAIL", msg)
		return
	}
	key := resultKey{j.sc.id, j.lc.label, j.srv.name}
	r.results[key] = append(r.results[key], s)
	fmt.Fprintf(os.Stderr, "  %s\n", oneLine(s, j.lc))
}

// measure runs one case against one server: start it, check its answers,
// warm up, then load it while reading its CPU time and memory.
func (r *runner) measure(ctx context.Context, scID string, lc loadCase, srv *server) (sample, error) {
	ncpu := runtime.NumCPU()
	workers, cpus, wrkCPUs, threads := lc.workers, "", "", ncpu
	if workers == 0 {
		workers = ncpu
	}
	if lc.pinned && ncpu >= 2 {
		cpus, wrkCPUs, threads = "0", "1", 1
	} else if lc.threads > 0 {
		threads = lc.threads
	}
	var ts *tlsSetup
	if lc.https {
		ts = &tlsSetup{tlsFiles: r.tls, noTickets: lc.noTickets, files: lc.path == "/"+downloadFile}
	}
	p, err := startServer(srv, workers, cpus, filepath.Join(r.logDir, srv.id+".log"), ts)
	if err != nil {
		return sample{}, err
	}
	defer p.stop()
	if lc.quota > 0 {
		q, err := confine(p.pid(), lc.quota)
		if err != nil {
			return sample{}, fmt.Errorf("CPU quota: %v", err)
		}
		defer q.release()
	}
	check := func() error { return checkServer(p.port, srv) }
	if ts != nil {
		check = func() error {
			st, err := checkTLS(p.port, *ts)
			if err == nil {
				if r.negotiated[scID] == nil {
					r.negotiated[scID] = map[string]string{}
				}
				r.negotiated[scID][srv.name] = st
			}
			return err
		}
	}
	if err := check(); err != nil {
		return sample{}, fmt.Errorf("answered wrongly: %v", err)
	}
	if lc.idle > 0 {
		return measureIdle(p, lc.idle)
	}
	load := wrkLoad{port: p.port, path: lc.path, conns: lc.conns, threads: min(threads, lc.conns),
		cpus: wrkCPUs, script: r.scripts[lc.script], headers: lc.headers, https: lc.https}
	if r.cfg.warmup > 0 {
		load.duration = r.cfg.warmup
		if _, err := runWrk(ctx, load); err != nil {
			return sample{}, fmt.Errorf("warm-up: %v", err)
		}
	}
	load.duration = r.cfg.duration
	cpu0, err := treeCPU(p.pid())
	if err != nil {
		return sample{}, err
	}
	busy0, _ := machineBusy()
	t0 := time.Now()
	res, err := runWrk(ctx, load)
	if err != nil {
		return sample{}, err
	}
	if res.requests == 0 && r.cfg.warmup == 0 && p.alive() && check() == nil {
		// Without a warm-up (quick mode) a 1 s run includes every connect
		// of the case; on a loaded machine that can take the whole run and
		// wrk counts nothing. The server still answers, so this says
		// nothing about it: measure once more, now that the connections
		// have been accepted once, and for twice as long: over TLS the new
		// wrk connects and shakes hands again (256 handshakes in the
		// pipelined case). A second empty run is a failure.
		fmt.Fprintf(os.Stderr, "  wrk completed no request (socket errors: %d) but the server answers; repeating once\n",
			res.socketErrors)
		load.duration *= 2
		if cpu0, err = treeCPU(p.pid()); err != nil {
			return sample{}, err
		}
		busy0, _ = machineBusy()
		t0 = time.Now()
		if res, err = runWrk(ctx, load); err != nil {
			return sample{}, err
		}
	}
	wall := time.Since(t0)
	busy1, _ := machineBusy()
	cpu1, err := treeCPU(p.pid())
	if err != nil || !p.alive() {
		return sample{}, fmt.Errorf("server died under load (log: %s)", p.log)
	}
	rss, hwm, err := memKiB(p.pid())
	if err != nil {
		return sample{}, err
	}
	switch {
	case res.requests == 0:
		return sample{}, fmt.Errorf("wrk completed no request (socket errors: %d)", res.socketErrors)
	case res.non2xx > 0:
		return sample{}, fmt.Errorf("%d of %d responses were not 2xx", res.non2xx, res.requests)
	}
	return sample{rps: res.rps, p50: res.p50, p99: res.p99, requests: res.requests,
		cpuPerReq: (cpu1 - cpu0) / time.Duration(res.requests), socketErrors: res.socketErrors,
		rssKiB: rss, hwmKiB: hwm,
		otherCPU: max(0, float64(busy1-busy0-(cpu1-cpu0)-res.cpu)/float64(wall))}, nil
}

// measureIdle reads the server's RSS before and after n idle connections.
func measureIdle(p *serverProc, n int) (sample, error) {
	base, _, err := memKiB(p.pid())
	if err != nil {
		return sample{}, err
	}
	conns, err := holdIdle(p.port, n)
	if err != nil {
		return sample{}, err
	}
	defer closeAll(conns)
	time.Sleep(500 * time.Millisecond) // let lazily freed or deferred work settle
	rss, hwm, err := memKiB(p.pid())
	if err != nil {
		return sample{}, err
	}
	if !stillOpen(conns) {
		return sample{}, fmt.Errorf("server closed idle connections while they were measured")
	}
	return sample{rssBaseKiB: base, rssKiB: rss, hwmKiB: hwm,
		perConnBytes: float64(rss-base) * 1024 / float64(n)}, nil
}

// stillOpen samples a few held connections: a server that drops idle
// connections would otherwise look frugal.
func stillOpen(conns []net.Conn) bool {
	for i := 0; i < len(conns); i += max(1, len(conns)/16) {
		c := conns[i]
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		var b [1]byte
		_, err := c.Read(b[:])
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return false // EOF, reset, or unexpected bytes
		}
		c.SetReadDeadline(time.Time{})
	}
	return true
}

func oneLine(s sample, lc loadCase) string {
	if lc.idle > 0 {
		return fmt.Sprintf("RSS %.1f -> %.1f MiB, %.2f KiB/conn", float64(s.rssBaseKiB)/1024,
			float64(s.rssKiB)/1024, s.perConnBytes/1024)
	}
	line := fmt.Sprintf("%.0f req/s, p50 %v, p99 %v, %.2f CPU µs/req, peak RSS %.1f MiB",
		s.rps, s.p50, s.p99, float64(s.cpuPerReq)/float64(time.Microsecond), float64(s.hwmKiB)/1024)
	if s.otherCPU > noisyCPU {
		line += fmt.Sprintf(", other processes used %.0f%% of a CPU", 100*s.otherCPU)
	}
	if s.socketErrors > 0 {
		line += fmt.Sprintf(", %d socket errors", s.socketErrors)
	}
	return line
}

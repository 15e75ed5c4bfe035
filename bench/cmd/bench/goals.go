package main

import (
	"fmt"
	"slices"
	"strings"
)

// goal is one of the targets for uringd, reported (never asserted)
// at the top of the report so a reader sees at once where uringd stands.
type goal struct {
	text string
	// measure returns the measured figure as text and whether the goal is met;
	// ok is false when the figures it needs are missing.
	measure func(r *runner) (figure string, met, ok bool)
}

func median(r *runner, scenario, label, server string, m metricID) (float64, bool) {
	s := r.results[resultKey{scenario, label, server}]
	if len(s) == 0 {
		return 0, false
	}
	return summarize(s, m).median, true
}

// cpuVsRef compares uringd's CPU per request with the C reference's.
func cpuVsRef(scenario, label string, limit float64) func(*runner) (string, bool, bool) {
	return func(r *runner) (string, bool, bool) {
		u, ok1 := median(r, scenario, label, "uringd", mCPU)
		c, ok2 := median(r, scenario, label, "C liburing ref", mCPU)
		if !ok1 || !ok2 || c == 0 {
			return "", false, false
		}
		return fmt.Sprintf("%.2fx (%.2f vs %.2f µs)", u/c, u, c), u/c <= limit, true
	}
}

// cpuBelowGoPeers lists the Go peers whose CPU per request is at or below
// uringd's (the C reference is judged by cpuVsRef).
func cpuBelowGoPeers(scenario, label string) func(*runner) (string, bool, bool) {
	return func(r *runner) (string, bool, bool) {
		u, ok := median(r, scenario, label, "uringd", mCPU)
		if !ok {
			return "", false, false
		}
		var ahead []string
		for _, s := range r.servers {
			if s.id == "uringd" || s.id == "cref" {
				continue
			}
			if v, ok := median(r, scenario, label, s.name, mCPU); ok && v <= u {
				ahead = append(ahead, fmt.Sprintf("%s %.2fx", s.name, v/u))
			}
		}
		if len(ahead) == 0 {
			return "yes", true, true
		}
		return "at or below uringd: " + strings.Join(ahead, ", "), false, true
	}
}

// rpsAtLeastPeers lists the servers with more requests/s than uringd.
func rpsAtLeastPeers(scenario, label string) func(*runner) (string, bool, bool) {
	return func(r *runner) (string, bool, bool) {
		u, ok := median(r, scenario, label, "uringd", mRPS)
		if !ok {
			return "", false, false
		}
		var behind []string
		for _, s := range r.servers {
			if v, ok := median(r, scenario, label, s.name, mRPS); ok && v > u {
				behind = append(behind, fmt.Sprintf("%s %.2fx", s.name, v/u))
			}
		}
		if len(behind) == 0 {
			return "yes", true, true
		}
		return "faster: " + strings.Join(behind, ", "), false, true
	}
}

// cpuVsOwn compares uringd's CPU per request in one scenario with its own
// in another (HTTPS over cleartext).
func cpuVsOwn(scenario, base, label string, limit float64) func(*runner) (string, bool, bool) {
	return func(r *runner) (string, bool, bool) {
		u, ok1 := median(r, scenario, label, "uringd", mCPU)
		c, ok2 := median(r, base, label, "uringd", mCPU)
		if !ok1 || !ok2 || c == 0 {
			return "", false, false
		}
		return fmt.Sprintf("%.2fx (%.2f vs %.2f µs)", u/c, u, c), u/c <= limit, true
	}
}

// cpuBelowPeers lists the named peers (all when none is named) whose CPU
// per request is below uringd's, or equal when strict.
func cpuBelowPeers(scenario, label string, strict bool, peers ...string) func(*runner) (string, bool, bool) {
	return func(r *runner) (string, bool, bool) {
		u, ok := median(r, scenario, label, "uringd", mCPU)
		if !ok {
			return "", false, false
		}
		var figs, cheaper []string
		for _, s := range r.servers {
			if s.name == "uringd" || (len(peers) > 0 && !slices.Contains(peers, s.name)) {
				continue
			}
			v, ok := median(r, scenario, label, s.name, mCPU)
			if !ok {
				continue
			}
			figs = append(figs, fmt.Sprintf("%s %.2fx", s.name, v/u))
			if v < u || (strict && v == u) {
				cheaper = append(cheaper, s.name)
			}
		}
		if len(figs) == 0 {
			return "", false, false
		}
		fig := fmt.Sprintf("uringd %.2f µs; peers over uringd: %s", u, strings.Join(figs, ", "))
		if len(cheaper) > 0 {
			fig += "; cheaper: " + strings.Join(cheaper, ", ")
		}
		return fig, len(cheaper) == 0, true
	}
}

var goals = []goal{
	{"one core, non-pipelined: uringd CPU/request within 1.05x of the C reference",
		cpuVsRef("single", "40 conns", 1.05)},
	{"one core, non-pipelined: uringd requests/s at least every peer's", rpsAtLeastPeers("single", "40 conns")},
	{"the same at half a CPU (the server, not wrk, is the bottleneck)", rpsAtLeastPeers("quota", "40 conns, 0.5 CPU")},
	{"pipelined 16 deep: uringd CPU/request within 1.1x of the C reference",
		cpuVsRef("pipelined", "256 conns x16", 1.1)},
	{"two workers sharing both CPUs with wrk: uringd CPU/request at or below the C reference's",
		cpuVsRef("shared2", "40 conns, 2 workers", 1.0)},
	{"the same: uringd CPU/request below every Go peer's", cpuBelowGoPeers("shared2", "40 conns, 2 workers")},
	{"/fibonacci: at least 1.9x requests/s from 1 worker to all", func(r *runner) (string, bool, bool) {
		one, ok1 := median(r, "fibonacci", "1 worker", "uringd", mRPS)
		all, ok2 := median(r, "fibonacci", "all workers", "uringd", mRPS)
		if !ok1 || !ok2 || one == 0 {
			return "", false, false
		}
		return fmt.Sprintf("%.2fx", all/one), all/one >= 1.9, true
	}},
	{"HTTPS keep-alive: uringd CPU/request within 1.25x of its cleartext figure (same run)",
		cpuVsOwn("https", "single", "40 conns", 1.25)},
	{"HTTPS pipelined 16 deep: uringd CPU/request within 1.3x of its cleartext figure (same run)",
		cpuVsOwn("https-pipelined", "pipelined", "256 conns x16", 1.3)},
	{"HTTPS keep-alive: uringd CPU/request below every peer's", cpuBelowPeers("https", "40 conns", true)},
	{"a full handshake per request: uringd CPU/request at or below fasthttp's and net/http's",
		cpuBelowPeers("handshake", "40 conns, close", false, "fasthttp", "net/http")},
	{"idle connections: under 2 KiB of RSS each", func(r *runner) (string, bool, bool) {
		for k, s := range r.results {
			if k.scenario == "idle" && k.server == "uringd" && len(s) > 0 {
				v := summarize(s, mPerConn).median
				return fmt.Sprintf("%.2f KiB", v), v < 2, true
			}
		}
		return "", false, false
	}},
}

// writeGoals writes the goals table; goals whose figures are missing (uringd
// or the reference not measured, scenario not selected) are left out.
func writeGoals(b *strings.Builder, r *runner) {
	var rows []string
	for _, g := range goals {
		fig, met, ok := g.measure(r)
		if !ok {
			continue
		}
		verdict := "met"
		if !met {
			verdict = "**not met**"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |", g.text, fig, verdict))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Goals (from the issue; reported, not asserted)\n\n| goal | measured (medians) | |\n| --- | --- | --- |\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// writeReport writes <outDir>/<date>-<host>.md and one SVG chart per scenario
// next to it, and returns the report's path.
func writeReport(cfg config, env environment, all []*server, r *runner, scs []scenario) (string, error) {
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return "", err
	}
	stem := env.started.Format("2006-01-02") + "-" + env.host
	if cfg.quick {
		stem += "-quick"
	}
	base := baseServer(r.servers)
	var b strings.Builder
	writeHeader(&b, cfg, env, all, r, base)
	writeGoals(&b, r)
	for i, sc := range scs {
		chart := fmt.Sprintf("%s-%s.svg", stem, sc.id)
		svg := drawChart(sc, r.servers, r.results)
		if err := os.WriteFile(filepath.Join(cfg.outDir, chart), []byte(svg), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n## %d. %s\n\n%s\n\n![%s](%s)\n\n", i+1, sc.title, sc.about, sc.title, chart)
		writeTable(&b, sc, r, base)
	}
	if len(r.failures) > 0 {
		b.WriteString("\n## Failures\n\n")
		for _, f := range r.failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	path := filepath.Join(cfg.outDir, stem+".md")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// baseServer is what ratios are taken against: uringd, or the C reference
// while uringd cannot be built (the ratios then still rank the peers).
func baseServer(servers []*server) *server {
	for _, id := range []string{"uringd", "cref"} {
		for _, s := range servers {
			if s.id == id {
				return s
			}
		}
	}
	return nil
}

func writeHeader(b *strings.Builder, cfg config, env environment, all []*server, r *runner, base *server) {
	fmt.Fprintf(b, "# uringd benchmarks: %s on %s\n\n", env.started.Format("2006-01-02 15:04 UTC"), env.host)
	if r.interrupted {
		b.WriteString("**Partial: this run was interrupted; do not publish it.**\n\n")
	}
	cmd := "cd bench && go run ./cmd/bench"
	if cfg.quick {
		cmd += " -quick"
	}
	if len(cfg.scenarios) > 0 {
		cmd += " -scenarios " + strings.Join(cfg.scenarios, ",")
	}
	if len(cfg.servers) > 0 {
		cmd += " -servers " + strings.Join(cfg.servers, ",")
	}
	if !cfg.quick || cfg.reps != 1 {
		cmd += fmt.Sprintf(" -reps %d", cfg.reps)
	}
	fmt.Fprintf(b, "Reproduce with `%s` (see bench/README.md for flags). ", cmd)
	b.WriteString("Requests/s alone cannot separate fast servers here (one wrk thread saturates first), " +
		"so the server's CPU time per request (utime+stime of all its threads, from /proc/PID/stat, " +
		"over the measured run) is the headline figure; in the half-a-CPU scenario (a CFS quota) " +
		"the server is the bottleneck and requests/s separates them too.\n\n")
	b.WriteString("| | |\n| --- | --- |\n")
	rows := [][2]string{
		{"CPU", fmt.Sprintf("%s, %d CPUs", env.cpu, env.ncpu)},
		{"kernel", env.kernel},
		{"commit", env.commit},
		{"Go", env.goVersion},
		{"wrk", env.wrk},
		{"pinning", env.pinning},
		{"runs", fmt.Sprintf("%v load after %v warm-up, %d repetition(s): median (min-max)",
			cfg.duration, cfg.warmup, cfg.reps)},
		{"file limit", fmt.Sprintf("RLIMIT_NOFILE %d", env.fileLimit)},
		{"quick mode", fmt.Sprint(cfg.quick)},
		{"disturbed runs", disturbed(r)},
	}
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", row[0], row[1])
	}
	b.WriteString("\nServers:\n\n")
	for _, s := range all {
		status := "measured"
		if s.bin == "" {
			status = "**not measured**: " + s.skip
		}
		fmt.Fprintf(b, "- %s: %s\n", s.name, status)
	}
	switch {
	case base == nil:
	case base.id == "uringd":
		b.WriteString("\nRatio columns are each server's median over uringd's median.")
	default:
		fmt.Fprintf(b, "\nuringd was not measured, so the ratio columns are to the %s instead.", base.name)
	}
	fmt.Fprintf(b, " *other CPU %%* is the CPU that processes other than the server and wrk used during "+
		"the measured run, in %% of one CPU (median): above %.0f the machine was not quiet and every "+
		"figure in that row may be disturbed; server CPU per request suffers least.\n", 100*noisyCPU)
}

// writeTable writes one row per (case, server): each metric as median with
// the min-max range when there were several repetitions, then the ratios.
func writeTable(b *strings.Builder, sc scenario, r *runner, base *server) {
	head := []string{"case", "server"}
	for _, m := range sc.table {
		head = append(head, metrics[m].name)
	}
	for _, m := range sc.table {
		if metrics[m].ratio && base != nil {
			head = append(head, metrics[m].name+" ratio")
		}
	}
	loaded := sc.cases[0].idle == 0 // wrk ran, so other processes' CPU was measured
	if loaded {
		head = append(head, metrics[mOther].name)
	}
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	var notes []string
	for _, lc := range sc.cases {
		for _, s := range r.servers {
			key := resultKey{sc.id, lc.label, s.name}
			if why, ok := r.skipped[key]; ok {
				notes = append(notes, fmt.Sprintf("%s: not run (%s).", s.name, why))
				continue
			}
			samples := r.results[key]
			row := []string{lc.label, s.name}
			if len(samples) == 0 {
				row = append(row, "failed")
				fmt.Fprintf(b, "| %s |\n", strings.Join(row, " | "))
				continue
			}
			for _, m := range sc.table {
				row = append(row, cell(summarize(samples, m), metrics[m].format))
			}
			for _, m := range sc.table {
				if metrics[m].ratio && base != nil {
					row = append(row, ratio(samples, r.results[resultKey{sc.id, lc.label, base.name}], m))
				}
			}
			if loaded {
				row = append(row, fmt.Sprintf("%.0f", summarize(samples, mOther).median))
			}
			fmt.Fprintf(b, "| %s |\n", strings.Join(row, " | "))
			if errs := socketErrors(samples); errs > 0 {
				notes = append(notes, fmt.Sprintf("%s (%s): %d socket errors reported by wrk.", s.name, lc.label, errs))
			}
		}
	}
	if n := negotiatedNote(r.negotiated[sc.id]); n != "" {
		notes = append(notes, n)
	}
	if sc.id == "fibonacci" {
		notes = append(notes, scaling(sc, r)...)
	}
	for _, n := range notes {
		fmt.Fprintf(b, "\n%s\n", n)
	}
}

func cell(s summary, f func(float64) string) string {
	if s.n > 1 && s.min != s.max {
		return fmt.Sprintf("%s (%s–%s)", f(s.median), f(s.min), f(s.max))
	}
	return f(s.median)
}

func ratio(samples, base []sample, m metricID) string {
	bm := summarize(base, m).median
	if len(base) == 0 || bm == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", summarize(samples, m).median/bm)
}

func socketErrors(samples []sample) int64 {
	var n int64
	for _, s := range samples {
		n += s.socketErrors
	}
	return n
}

// scaling reports the all-workers over one-worker requests/s per server.
func scaling(sc scenario, r *runner) []string {
	var parts []string
	impossible := false
	for _, s := range r.servers {
		one := summarize(r.results[resultKey{sc.id, sc.cases[0].label, s.name}], mRPS).median
		all := summarize(r.results[resultKey{sc.id, sc.cases[1].label, s.name}], mRPS).median
		if one > 0 && all > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2fx", s.name, all/one))
			impossible = impossible || all/one > float64(runtime.NumCPU())*1.05
		}
	}
	if len(parts) == 0 {
		return nil
	}
	note := "Scaling from 1 worker to all (req/s ratio): " + strings.Join(parts, ", ") + "."
	if impossible {
		// Seen on quiet runs too: each request then cost less CPU with all
		// workers than with one, which the CPU µs/req column shows.
		note += fmt.Sprintf(" A ratio above the CPU count (%d) is not extra parallelism: the requests cost "+
			"less CPU each with all workers (compare CPU µs/req between the two cases); the issue notes the "+
			"fibonacci loop's speed depends on code placement, so judge scaling with that in mind.", runtime.NumCPU())
	}
	return []string{note}
}

// disturbed summarises how many measured runs other processes disturbed.
func disturbed(r *runner) string {
	n, total := 0, 0
	for k, samples := range r.results {
		if k.scenario == "idle" {
			continue // no load, not measured
		}
		for _, s := range samples {
			total++
			if s.otherCPU > noisyCPU {
				n++
			}
		}
	}
	return fmt.Sprintf("%d of %d load runs had other processes above %.0f%% of a CPU "+
		"(runs above %.0f%% were repeated once, keeping the quieter)", n, total, 100*noisyCPU, 100*retryCPU)
}

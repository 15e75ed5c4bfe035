// Command bench measures uringd against its peers (net/http, fasthttp, gnet,
// an iouring-go server, celeris and the C liburing reference) under wrk, and writes
// bench/results/<date>-<host>.md with a table and an SVG chart per scenario.
//
//	cd bench && go run ./cmd/bench            # full run (about 20 minutes)
//	cd bench && go run ./cmd/bench -quick     # CI: ~1 s per run, checks answers only
//
// Every server is first checked for correct answers (body content, pipelined
// requests); a server that answers wrongly is not measured and makes the
// command exit non-zero. Timings are reported, never asserted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is everything a run depends on; the report prints it.
type config struct {
	benchDir  string
	outDir    string // where the report goes
	quick     bool
	scenarios []string
	servers   []string
	reps      int
	duration  time.Duration
	warmup    time.Duration
	idleConns int
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := run(ctx, cfg)
	if report != "" {
		fmt.Fprintln(os.Stderr, "report:", report)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg config
	var scen, srvs string
	fs.BoolVar(&cfg.quick, "quick", false, "CI mode: 1 s runs, 1 repetition, no warm-up, 1000 idle connections; report to bench/out/")
	fs.StringVar(&scen, "scenarios", "", "comma-separated subset of: "+strings.Join(scenarioIDs(), ","))
	fs.StringVar(&srvs, "servers", "", "comma-separated subset of: "+strings.Join(serverIDs(), ","))
	fs.IntVar(&cfg.reps, "reps", 3, "repetitions of each measurement (median and min-max reported)")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "load duration of each run (whole seconds)")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each run")
	fs.IntVar(&cfg.idleConns, "idle-conns", 10000, "connections held open in the idle-memory scenario")
	fs.StringVar(&cfg.outDir, "out", "", "report directory (default bench/results, or bench/out with -quick)")
	fs.StringVar(&cfg.benchDir, "benchdir", "", "the bench module's directory (default: found from the working directory)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.quick {
		// Explicit flags still win, so a quick run can be narrowed or stretched.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["reps"] {
			cfg.reps = 1
		}
		if !set["duration"] {
			cfg.duration = time.Second
		}
		if !set["warmup"] {
			cfg.warmup = 0
		}
		if !set["idle-conns"] {
			cfg.idleConns = 1000
		}
	}
	cfg.scenarios, cfg.servers = splitList(scen), splitList(srvs)
	if err := checkNames(cfg.scenarios, scenarioIDs(), "scenario"); err != nil {
		return cfg, err
	}
	if err := checkNames(cfg.servers, serverIDs(), "server"); err != nil {
		return cfg, err
	}
	if cfg.reps < 1 || cfg.duration < time.Second || cfg.idleConns < 1 {
		return cfg, errors.New("-reps and -idle-conns must be at least 1, -duration at least 1s")
	}
	return cfg, nil
}

// run builds the servers, measures, and writes the report; it returns the
// report's path and an error if any server failed to build or answered wrongly.
func run(ctx context.Context, cfg config) (string, error) {
	var err error
	if cfg.benchDir == "" {
		if cfg.benchDir, err = findBenchDir(); err != nil {
			return "", err
		}
	}
	if cfg.outDir == "" {
		cfg.outDir = filepath.Join(cfg.benchDir, "results")
		if cfg.quick {
			cfg.outDir = filepath.Join(cfg.benchDir, "out")
		}
	}
	env, err := probeEnv(cfg)
	if err != nil {
		return "", err
	}
	scratch := filepath.Join(cfg.benchDir, "out")
	r := &runner{cfg: cfg, logDir: filepath.Join(scratch, "logs")}
	if r.scripts, err = writeScripts(filepath.Join(scratch, "lua")); err != nil {
		return "", err
	}
	if err := os.MkdirAll(r.logDir, 0o755); err != nil {
		return "", err
	}
	all := selectServers(cfg.servers)
	fmt.Fprintln(os.Stderr, "building servers...")
	buildErr := buildServers(ctx, cfg.benchDir, filepath.Join(cfg.benchDir, "bin"), all)
	for _, s := range all {
		if s.bin != "" {
			r.servers = append(r.servers, s)
		} else if s.skip != "" {
			fmt.Fprintf(os.Stderr, "skipping %s: %s\n", s.name, s.skip)
		}
	}
	scs := selectScenarios(scenarios(cfg.idleConns), cfg.scenarios)
	if anyTLS(scs) {
		if r.tls, err = makeTLSFiles(filepath.Join(scratch, "tls")); err != nil {
			return "", err
		}
	}
	r.runAll(ctx, scs)
	report, werr := writeReport(cfg, env, all, r, scs)
	switch {
	case buildErr != nil:
		return report, buildErr
	case werr != nil:
		return report, werr
	case len(r.failures) > 0:
		return report, fmt.Errorf("%d run(s) failed:\n  %s", len(r.failures), strings.Join(r.failures, "\n  "))
	case len(r.servers) == 0:
		return report, errors.New("no server was built")
	}
	return report, nil
}

// findBenchDir walks up from the working directory to the bench module, so the
// command works from bench/ (go run) and from bench/cmd/bench (go test).
func findBenchDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/uringd/uringd/bench\n") {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no bench module above %s; run from the bench directory or pass -benchdir", dir)
		}
	}
}

func selectServers(ids []string) []*server {
	var out []*server
	for _, s := range allServers() {
		if len(ids) == 0 || slices.Contains(ids, s.id) {
			out = append(out, s)
		}
	}
	return out
}

func selectScenarios(all []scenario, ids []string) []scenario {
	var out []scenario
	for _, sc := range all {
		if len(ids) == 0 || slices.Contains(ids, sc.id) {
			out = append(out, sc)
		}
	}
	return out
}

func anyTLS(scs []scenario) bool {
	for _, sc := range scs {
		for _, lc := range sc.cases {
			if lc.https {
				return true
			}
		}
	}
	return false
}

func scenarioIDs() []string {
	var ids []string
	for _, sc := range scenarios(1) {
		ids = append(ids, sc.id)
	}
	return ids
}

func serverIDs() []string {
	var ids []string
	for _, s := range allServers() {
		ids = append(ids, s.id)
	}
	return ids
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func checkNames(got, known []string, what string) error {
	for _, g := range got {
		if !slices.Contains(known, g) {
			return fmt.Errorf("unknown %s %q (known: %s)", what, g, strings.Join(known, ", "))
		}
	}
	return nil
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// environment is what the report records about the machine and the run.
type environment struct {
	host, cpu, kernel, goVersion, wrk string
	commit                            string // the repository's commit, marked when the tree has changes
	ncpu                              int
	fileLimit                         uint64
	pinning                           string
	started                           time.Time
}

// probeEnv checks the tools the run needs and records the machine. wrk is
// required (with advice on installing it); taskset is optional.
func probeEnv(cfg config) (environment, error) {
	e := environment{ncpu: runtime.NumCPU(), goVersion: runtime.Version(), started: time.Now().UTC()}
	var err error
	if e.wrk, err = wrkVersion(); err != nil {
		return e, err
	}
	// 10,000 idle connections plus the sweep's 4000 need headroom in both the
	// harness (the idle client) and the server, which inherits the limit.
	if e.fileLimit, err = raiseFileLimit(uint64(cfg.idleConns) + 8192); err != nil {
		return e, fmt.Errorf("raising RLIMIT_NOFILE: %v", err)
	}
	if e.fileLimit < uint64(cfg.idleConns)+100 {
		return e, fmt.Errorf("file-descriptor limit %d is too low for %d idle connections", e.fileLimit, cfg.idleConns)
	}
	e.host, _ = os.Hostname()
	e.kernel = readTrim("/proc/sys/kernel/osrelease")
	e.cpu = cpuModel()
	e.commit = gitCommit(filepath.Dir(cfg.benchDir))
	switch {
	case !haveTaskset():
		e.pinning = "none (taskset not found: apt-get install util-linux)"
	case e.ncpu < 2:
		e.pinning = "none (one CPU)"
	default:
		e.pinning = "one-core scenarios: server on CPU 0, wrk on CPU 1 (taskset)"
	}
	return e, nil
}

// gitCommit names the commit the servers were built from, so a published
// result can be tied to the code; "+ uncommitted changes" when the tree differs.
func gitCommit(repoDir string) string {
	out, err := exec.Command("git", "-C", repoDir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	c := strings.TrimSpace(string(out))
	if st, _ := exec.Command("git", "-C", repoDir, "status", "--porcelain", "--untracked-files=no").Output(); len(st) > 0 {
		c += " + uncommitted changes"
	}
	return c
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	for _, line := range strings.Split(readTrim("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	out, _ := exec.Command("uname", "-m").Output()
	return strings.TrimSpace(string(out))
}

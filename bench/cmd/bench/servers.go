package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// server is one HTTP server under test and how to run it.
type server struct {
	id   string // flag name (-servers)
	name string // name in tables and charts
	bin  string // built binary; empty when skipped
	skip string // why it is not measured (not built), shown in the report

	// args and env give the command line and extra environment for a run on
	// port with the given number of workers.
	args func(port, workers int) []string
	env  func(port, workers int) []string

	// tlsArgs gives the command line of a TLS case (tls.go); nil for a
	// server that sits out the TLS scenarios. A server without args (nginx)
	// serves only those.
	tlsArgs func(port, workers int, t tlsSetup) ([]string, error)

	echo       bool // answers POST /echo (the upload scenario needs it)
	uploadOnly bool // a variant of another peer's /echo: measured in the upload scenario alone
	closeAware bool // answers "Connection: close" requests by closing (churn needs it)
}

// goEnv pins the Go runtime to the worker count: GOMAXPROCS=1 in the
// one-core scenarios, as the issue asks of every Go peer.
func goEnv(_, workers int) []string { return []string{"GOMAXPROCS=" + strconv.Itoa(workers)} }

func addrArgs(port, _ int) []string { return []string{"-addr", ":" + strconv.Itoa(port)} }

func addrWorkerArgs(port, workers int) []string {
	return []string{"-addr", ":" + strconv.Itoa(port), "-workers", strconv.Itoa(workers)}
}

// allServers lists every server in report order: uringd first (the ratios'
// base), then the near-limit C reference, then the Go peers.
func allServers() []*server {
	return []*server{
		{id: "uringd", name: "uringd", args: addrWorkerArgs, tlsArgs: uringdTLSArgs, env: goEnv, echo: true, closeAware: true},
		// Debian's nginx, in the TLS scenarios only (its cleartext figures are
		// static/run.sh's): a master and one worker, both counted.
		{id: "nginx", name: "nginx", tlsArgs: nginxTLSArgs, env: func(int, int) []string { return nil }},
		{id: "cref", name: "C liburing ref", args: func(int, int) []string { return nil },
			env: func(port, workers int) []string {
				return []string{"PORT=" + strconv.Itoa(port), "THREADS=" + strconv.Itoa(workers)}
			}},
		{id: "gnet", name: "gnet", args: addrWorkerArgs, env: goEnv, echo: true, closeAware: true},
		{id: "fasthttp", name: "fasthttp", args: addrArgs, tlsArgs: goTLSArgs, env: goEnv, echo: true, closeAware: true},
		{id: "nethttp", name: "net/http", args: addrArgs, tlsArgs: goTLSArgs, env: goEnv, echo: true, closeAware: true},
		// The same binary echoing as cmd/uringd does: streamed as it arrives
		// (full duplex io.Copy, the request's Content-Length), where the row
		// above reads the whole body first. Both are fair; they cost net/http
		// differently (bench/README.md, upload).
		{id: "nethttp-stream", name: "net/http streamed echo", uploadOnly: true, echo: true, closeAware: true, env: goEnv,
			args: func(port, workers int) []string { return append(addrArgs(port, workers), "-echo", "stream") }},
		{id: "iouringgo", name: "iouring-go", args: addrArgs, env: goEnv, echo: true, closeAware: true},
		{id: "celeris", name: "celeris io_uring", args: celerisArgs("iouring"), env: goEnv, echo: true, closeAware: true},
		{id: "celeris-epoll", name: "celeris epoll", args: celerisArgs("epoll"), env: goEnv, echo: true, closeAware: true},
	}
}

// buildServers builds every selected server into binDir. A peer that fails to
// build is an error; uringd, the C reference and celeris are skipped with a
// message when their source or toolchain is missing, so the harness works before
// cmd/uringd exists and on machines without gcc or liburing.
func buildServers(ctx context.Context, benchDir, binDir string, servers []*server) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	repoDir := filepath.Dir(benchDir)
	var failed []string
	for _, s := range servers {
		out := filepath.Join(binDir, s.id)
		var err error
		switch s.id {
		case "uringd":
			if _, statErr := os.Stat(filepath.Join(repoDir, "cmd", "uringd")); statErr != nil {
				s.skip = "../cmd/uringd does not exist yet"
				continue
			}
			// Built from the repository root so it uses the root module's go.mod.
			if err = goBuild(ctx, repoDir, out, "./cmd/uringd"); err != nil {
				s.skip = "go build ../cmd/uringd failed: " + firstLines(err.Error(), 4)
				continue
			}
		case "nginx":
			var bin string
			if bin, s.skip = findNginx(); s.skip != "" {
				continue
			}
			s.bin = bin
			continue
		case "cref":
			if s.skip = buildReference(ctx, repoDir, out); s.skip != "" {
				continue
			}
		case "celeris", "celeris-epoll":
			// Its own module, built against ../shared/peers/celeris when present
			// (both ids are the same binary; the second build comes from the cache).
			if s.skip = buildCeleris(ctx, benchDir, out); s.skip != "" {
				continue
			}
		case "nethttp-stream":
			err = goBuild(ctx, benchDir, out, "./servers/nethttp")
		case "iouringgo":
			// iouring-go reaches into syscall.Sockaddr with go:linkname, which the
			// linker refuses since Go 1.23 unless told not to check.
			err = goBuild(ctx, benchDir, out, "./servers/iouringgo", "-ldflags=-checklinkname=0")
		default:
			err = goBuild(ctx, benchDir, out, "./servers/"+s.id)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", s.id, err))
			continue
		}
		s.bin = out
	}
	if len(failed) > 0 {
		return fmt.Errorf("building peers failed:\n%s", strings.Join(failed, "\n"))
	}
	return nil
}

func goBuild(ctx context.Context, dir, out, pkg string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	return runCmd(ctx, dir, "go", append(args, pkg)...)
}

// buildReference compiles ../shared/reference/uring_http.c (never copied into
// the repository) and returns why it was skipped, or "".
func buildReference(ctx context.Context, repoDir, out string) string {
	src := filepath.Join(sharedDir(repoDir), "reference", "uring_http.c")
	if _, err := os.Stat(src); err != nil {
		return "reference source " + src + " not found"
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		return "gcc not installed (apt-get install -y gcc liburing-dev)"
	}
	if _, err := os.Stat("/usr/include/liburing.h"); err != nil {
		return "liburing-dev not installed (apt-get install -y liburing-dev)"
	}
	if err := runCmd(ctx, repoDir, "gcc", "-O2", "-o", out, src, "-luring", "-lpthread"); err != nil {
		return "gcc failed: " + firstLines(err.Error(), 4)
	}
	return ""
}

func runCmd(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}

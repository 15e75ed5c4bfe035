package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// sharedDir is ../shared beside the repository, where the C reference and
// the celeris snapshot live (never copied into the project). In a git
// worktree elsewhere it is the one beside the main checkout, found through
// the common git directory (<main>/.git).
func sharedDir(repoDir string) string {
	dir := filepath.Join(filepath.Dir(repoDir), "shared")
	if _, err := os.Stat(dir); err == nil {
		return dir
	}
	out, err := exec.Command("git", "-C", repoDir, "rev-parse", "--path-format=absolute", "--git-common-dir").Output()
	if err != nil {
		return dir
	}
	main := filepath.Dir(strings.TrimSpace(string(out))) // the main checkout
	if alt := filepath.Join(filepath.Dir(main), "shared"); main != repoDir {
		if _, err := os.Stat(alt); err == nil {
			return alt
		}
	}
	return dir
}

// celerisArgs runs servers/celeris on one of its two engines.
func celerisArgs(engine string) func(port, workers int) []string {
	return func(port, _ int) []string {
		return []string{"-addr", ":" + strconv.Itoa(port), "-engine", engine}
	}
}

// buildCeleris builds servers/celeris, a module of its own, against the
// snapshot in ../shared/peers/celeris (celeris is not on the module proxy;
// see ../shared/peers/README.md) and returns why it was skipped, or "".
// The committed go.mod cannot name that folder (a clone without ../shared must
// still build bench/), so the replace goes into a copy: go.mod and go.sum are
// copied to a temporary directory, `go mod edit` adds the replace there, and
// `go build -modfile` builds with it. Nothing is written into the repository.
func buildCeleris(ctx context.Context, benchDir, out string) string {
	src, err := filepath.Abs(filepath.Join(sharedDir(filepath.Dir(benchDir)), "peers", "celeris"))
	if err != nil {
		return err.Error()
	}
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return "celeris snapshot " + src + " not found (it is not on the module proxy)"
	}
	modDir := filepath.Join(benchDir, "servers", "celeris")
	tmp, err := os.MkdirTemp("", "celeris-mod-")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(tmp)
	modfile := filepath.Join(tmp, "go.mod") // go.sum is looked for beside it
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(modDir, name))
		if err != nil {
			return err.Error()
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err.Error()
		}
	}
	if err := runCmd(ctx, modDir, "go", "mod", "edit", "-modfile="+modfile,
		"-replace=github.com/goceleris/celeris="+src); err != nil {
		return "go mod edit failed: " + firstLines(err.Error(), 4)
	}
	if err := goBuild(ctx, modDir, out, ".", "-modfile="+modfile); err != nil {
		return "go build servers/celeris failed: " + firstLines(err.Error(), 4)
	}
	return ""
}

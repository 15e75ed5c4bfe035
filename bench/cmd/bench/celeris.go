package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
)

// celerisSource is where the celeris snapshot lives, relative to the
// repository root: beside the project, never inside it (celeris is not on the
// module proxy; see ../shared/peers/README.md).
var celerisSource = filepath.Join("..", "shared", "peers", "celeris")

// celerisArgs runs servers/celeris on one of its two engines.
func celerisArgs(engine string) func(port, workers int) []string {
	return func(port, _ int) []string {
		return []string{"-addr", ":" + strconv.Itoa(port), "-engine", engine}
	}
}

// buildCeleris builds servers/celeris, a module of its own, against the
// snapshot in ../shared/peers/celeris and returns why it was skipped, or "".
// The committed go.mod cannot name that folder (a clone without ../shared must
// still build bench/), so the replace goes into a copy: go.mod and go.sum are
// copied to a temporary directory, `go mod edit` adds the replace there, and
// `go build -modfile` builds with it. Nothing is written into the repository.
func buildCeleris(ctx context.Context, benchDir, out string) string {
	src, err := filepath.Abs(filepath.Join(filepath.Dir(benchDir), celerisSource))
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

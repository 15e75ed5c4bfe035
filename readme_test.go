package uringd_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocSnippetsCompile builds every Go snippet of README.md and the
// package doc's example against the current API, in a throwaway module set
// up the way the README's install section says (its go.mod, with the
// replace pointed at this checkout, then go mod tidy): a snippet that no
// longer compiles, or install steps that no longer work, fail here.
func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	docGo, err := os.ReadFile("doc.go")
	require.NoError(t, err)

	goMod, snippets := readmeBlocks(t, string(readme))
	snippets = append(snippets, docExample(t, string(docGo)))

	dir := t.TempDir()
	// The README's go.mod, with "../uringd" meaning this checkout.
	goMod = strings.Replace(goMod, "=> ../uringd", "=> "+root, 1)
	require.Contains(t, goMod, "=> "+root, "README go.mod has no replace => ../uringd")
	writeDocFile(t, filepath.Join(dir, "go.mod"), goMod)
	// This module's go.sum vouches for the dependencies the snippets pull
	// in through uringd, so that tidy needs no checksum database (a machine
	// without access to sum.golang.org failed here).
	goSum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	writeDocFile(t, filepath.Join(dir, "go.sum"), string(goSum))

	var mains int
	var funcs strings.Builder
	for i, s := range snippets {
		if strings.HasPrefix(s, "package main") {
			mains++
			writeDocFile(t, filepath.Join(dir, fmt.Sprintf("main%d", mains), "main.go"), s)
			continue
		}
		// A fragment: the body of its own function, in a nested block so
		// that "srv, _ := ..." may shadow the srv other fragments assume.
		fmt.Fprintf(&funcs, "func snippet%d() {\n\tvar srv *uringd.Server\n\t_ = srv\n\t{\n%s\n\t}\n}\n\n", i, s)
	}
	require.Equal(t, 1, mains, "the install section's main.go")
	writeDocFile(t, filepath.Join(dir, "fragments", "main.go"), fragmentsHeader+funcs.String())

	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", os.DevNull, "./..."}, {"vet", "./..."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s\nfragments:\n%s", strings.Join(args, " "), out, funcs.String())
	}
}

// fragmentsHeader declares what the README's fragments take as given
// (userHandler, mux, lookupUser, getItem) and the imports they use.
const fragmentsHeader = `package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/uringd/uringd"
)

var (
	_ = context.Background
	_ = errors.Is
	_ = fmt.Sprint
	_ = log.Print
	_ = os.Exit
	_ = signal.Notify
	_ = syscall.SIGTERM
	_ = time.Second
)

var userHandler uringd.BlockingHandler = uringd.BlockingHandlerFunc(func(ctx context.Context, w uringd.ResponseWriter, r *uringd.Request) {})

var mux = http.NewServeMux()

func lookupUser(ctx context.Context, id string) (string, error) { return id, nil }

func getItem(w http.ResponseWriter, r *http.Request) {}

func main() {}

`

var mdFence = regexp.MustCompile("(?s)```([a-z]*)\n(.*?)```")

// readmeBlocks returns the install section's go.mod and every ```go block.
func readmeBlocks(t *testing.T, md string) (goMod string, snippets []string) {
	for _, m := range mdFence.FindAllStringSubmatch(md, -1) {
		switch {
		case m[1] == "go":
			snippets = append(snippets, m[2])
		case m[1] == "" && strings.HasPrefix(m[2], "module "):
			goMod = m[2]
		}
	}
	require.NotEmpty(t, goMod, "README has no go.mod block")
	require.GreaterOrEqual(t, len(snippets), 5, "README go blocks")
	return goMod, snippets
}

// docExample returns the code under "# Example" in the package comment.
func docExample(t *testing.T, src string) string {
	_, after, ok := strings.Cut(src, "// # Example\n")
	require.True(t, ok, "doc.go has no # Example section")
	var b strings.Builder
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "// # ") {
			break
		}
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			b.WriteString(code + "\n")
		} else if line == "//" {
			b.WriteString("\n")
		}
	}
	require.NotEmpty(t, strings.TrimSpace(b.String()))
	return b.String()
}

func writeDocFile(t *testing.T, path, s string) {
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
}

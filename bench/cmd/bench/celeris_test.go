package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A checkout without ../shared (a clone elsewhere) skips celeris with a note
// instead of failing the build of the peers.
func TestCelerisSkippedWithoutSnapshot(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	benchDir := filepath.Join(repo, "bench")
	require.NoError(t, os.MkdirAll(benchDir, 0o755))
	out := filepath.Join(t.TempDir(), "celeris")
	skip := buildCeleris(context.Background(), benchDir, out)
	require.Contains(t, skip, "not found")
	require.Contains(t, skip, filepath.Join(filepath.Dir(repo), "shared", "peers", "celeris"))
	require.NoFileExists(t, out)
}

// sharedDir prefers ../shared beside the repository.
func TestSharedDirBesideRepository(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "shared"), 0o755))
	require.NoError(t, os.MkdirAll(repo, 0o755))
	require.Equal(t, filepath.Join(root, "shared"), sharedDir(repo))
}

package static_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/static"
	"golang.org/x/sys/unix"
)

const secret = "TOP-SECRET-DO-NOT-SERVE"

// TestTraversalRefused sends every path trick verbatim (raw TCP, so no
// client cleans or escapes it) to a server whose root sits next to a secret
// file, once resolving with openat2 and once with the os.Root fallback.
func TestTraversalRefused(t *testing.T) {
	for _, e := range engines {
		for _, fallback := range []bool{false, true} {
			name := e.name + "/openat2"
			if fallback {
				name = e.name + "/os.Root"
			}
			t.Run(name, func(t *testing.T) { testTraversal(t, e.engine, fallback) })
		}
	}
}

func testTraversal(t *testing.T, engine uringd.Engine, fallback bool) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, base, map[string]string{
		"secret.txt":         secret,
		"outside/secret.txt": secret,
		"root/ok.txt":        "ok",
		"root/sub/inner.txt": "inner",
	})
	// Symlinks out of the root, absolute and relative, to a file and a dir.
	require.NoError(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "abs-link")))
	require.NoError(t, os.Symlink("../secret.txt", filepath.Join(root, "rel-link")))
	require.NoError(t, os.Symlink(filepath.Join(base, "outside"), filepath.Join(root, "dir-link")))
	require.NoError(t, os.Symlink("../../outside", filepath.Join(root, "sub", "up-link")))
	require.NoError(t, os.Symlink("/proc/self/root"+filepath.Join(base, "secret.txt"), filepath.Join(root, "proc-link")))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(root, "passwd")))
	// A symlink that stays inside is fine.
	require.NoError(t, os.Symlink("sub/inner.txt", filepath.Join(root, "in-link")))
	// A FIFO must be refused without the open waiting for a writer.
	require.NoError(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))

	cfg := static.Config{Root: root, Listing: true}
	if fallback {
		static.ForceFallback(&cfg)
	}
	ts := startServerOn(t, cfg, engine)
	require.Equal(t, fallback, ts.h.UsesFallback())

	attacks := []string{
		"/../secret.txt",
		"/sub/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/%2e./secret.txt",
		"/..%2fsecret.txt",
		"/sub%2f..%2f..%2fsecret.txt",
		"/%2fetc%2fpasswd",
		"/..%5csecret.txt",
		"/..\\secret.txt",
		"/sub\\..\\..\\secret.txt",
		"/ok.txt%00",
		"/ok.txt%00.png",
		"/%00../secret.txt",
		"/%252e%252e/secret.txt", // decoded once: a literal "%2e%2e" name
		"/./ok.txt",
		"/abs-link",
		"/rel-link",
		"/dir-link/secret.txt",
		"/dir-link/",
		"/sub/up-link/secret.txt",
		"/proc-link",
		"/passwd",
		"/fifo",
		"/%",
		"/%zz",
		"/ok.txt%",
		"http://x/../secret.txt",
	}
	for _, a := range attacks {
		resp, body := rawGet(t, ts.addr, a)
		assert.Contains(t, []int{400, 403, 404}, resp.StatusCode, a)
		assert.NotContains(t, body, secret, a)
		assert.NotContains(t, body, "root:", a)
	}
	for target, want := range map[string]string{"/in-link": "inner", "/ok.txt": "ok", "/sub/inner.txt": "inner"} {
		resp, body := rawGet(t, ts.addr, target)
		assert.Equal(t, 200, resp.StatusCode, target)
		assert.Equal(t, want, body, target)
	}
}

// TestSymlinkSwappedWhileCached: a cached file replaced by a symlink out of
// the root is dropped at revalidation, not served through the new link.
func TestSymlinkSwappedWhileCached(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeTree(t, base, map[string]string{"secret.txt": secret, "root/f.txt": "public"})
	ts := startServer(t, static.Config{Root: root})
	c := newClient()
	_, body := do(t, c, "GET", ts.base+"/f.txt")
	require.Equal(t, "public", body)
	require.NoError(t, os.Remove(filepath.Join(root, "f.txt")))
	require.NoError(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "f.txt")))
	ts.h.Revalidate()
	resp, body := do(t, c, "GET", ts.base+"/f.txt")
	assert.Equal(t, 404, resp.StatusCode)
	assert.NotContains(t, body, secret)
}

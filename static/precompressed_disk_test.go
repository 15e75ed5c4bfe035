package static_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// TestPrecompressedWhichSiblings: which files count as a sibling. Served:
// a regular file beside the original, a directory's index's sibling, a
// symlink to a file inside the root, a sibling whose mtime is the
// original's truncated to seconds (brotli 1.0 copies whole seconds). Not
// served: a sibling older than the original, a directory, a symlink out of
// the root; none of these adds Vary. A sibling without its original is not
// served as the original, a sibling asked for by its own name is a plain
// gzip file, and nothing of this happens with Precompressed off.
func TestPrecompressedWhichSiblings(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeTree(t, dir, map[string]string{
		"only.css":        "body{color:red}",
		"docs/index.html": "<h1>docs</h1>",
		"orphan.txt.gz":   "orphan gzip",
		"stale.txt":       "edited after compressing",
		"dirsib.txt":      "its .gz is a directory",
		"dirsib.txt.gz/x": "",
		"out.txt":         "its .gz links out of the root",
		"in.txt":          "its .gz links to a file inside",
		"real.gz":         "the linked gzip",
		"secs.txt":        "sibling mtime in whole seconds",
	})
	for _, f := range []string{"only.css", "docs/index.html", "stale.txt", "secs.txt"} {
		compress(t, filepath.Join(dir, f), "gzip")
	}
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.gz"), []byte("outside"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.gz"), filepath.Join(dir, "out.txt.gz")))
	require.NoError(t, os.Symlink("real.gz", filepath.Join(dir, "in.txt.gz")))
	now := time.Now()
	require.NoError(t, os.Chtimes(filepath.Join(dir, "stale.txt.gz"), now.Add(-time.Hour), now.Add(-time.Hour)))
	orig := time.Unix(now.Unix(), 123456789)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "secs.txt"), orig, orig))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "secs.txt.gz"), orig.Truncate(time.Second), orig.Truncate(time.Second)))

	type want struct {
		status   int
		body     string // file under dir, or the literal body for a 404
		coding   string
		ctype    string
		vary     bool
		notFound bool
	}
	cases := map[string]want{
		"/only.css":         {200, "only.css.gz", "gzip", "text/css; charset=utf-8", true, false},
		"/docs/":            {200, "docs/index.html.gz", "gzip", "text/html; charset=utf-8", true, false},
		"/in.txt":           {200, "real.gz", "gzip", "text/plain; charset=utf-8", true, false},
		"/secs.txt":         {200, "secs.txt.gz", "gzip", "text/plain; charset=utf-8", true, false},
		"/stale.txt":        {200, "stale.txt", "", "text/plain; charset=utf-8", false, false},
		"/dirsib.txt":       {200, "dirsib.txt", "", "text/plain; charset=utf-8", false, false},
		"/out.txt":          {200, "out.txt", "", "text/plain; charset=utf-8", false, false},
		"/orphan.txt":       {404, "", "", "", false, true},
		"/orphan.txt.gz":    {200, "orphan.txt.gz", "", "application/gzip", false, false},
		"/only.css.gz":      {200, "only.css.gz", "", "application/gzip", false, false},
		"/only.css%2egz":    {200, "only.css.gz", "", "application/gzip", false, false},
		"/docs/index.html":  {200, "docs/index.html.gz", "gzip", "text/html; charset=utf-8", true, false},
		"/docs/../only.css": {404, "", "", "", false, true},
	}
	for _, e := range engines {
		for _, pc := range pcConfigs[:2] {
			t.Run(e.name+"/"+pc.name, func(t *testing.T) {
				ts := startServerOn(t, pc.cfg(dir), e.engine)
				c := newClient()
				for path, w := range cases {
					for round := 0; round < 2; round++ {
						resp, body := rawGetAE(t, ts.addr, path, "gzip, br, zstd")
						require.Equal(t, w.status, resp.StatusCode, path)
						if w.notFound {
							continue
						}
						assert.Equal(t, readFile(t, filepath.Join(dir, w.body)), body, path)
						assert.Equal(t, w.coding, resp.Header.Get("Content-Encoding"), path)
						assert.Equal(t, w.ctype, resp.Header.Get("Content-Type"), path)
						assert.Equal(t, w.vary, resp.Header.Get("Vary") == "Accept-Encoding", path)
					}
				}
				resp, body := do(t, c, "GET", ts.base+"/only.css", "Accept-Encoding: br")
				assert.Equal(t, "body{color:red}", body, "no br sibling: the file itself")
				assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"), "the answer still varies")
			})
		}
	}
	t.Run("os.Root fallback", func(t *testing.T) {
		cfg := static.Config{Root: dir, Precompressed: true}
		static.ForceFallback(&cfg)
		ts := startServer(t, cfg)
		require.True(t, ts.h.UsesFallback())
		for _, path := range []string{"/out.txt", "/in.txt", "/only.css"} {
			resp, body := rawGetAE(t, ts.addr, path, "gzip")
			w := cases[path]
			assert.Equal(t, readFile(t, filepath.Join(dir, w.body)), body, path)
			assert.Equal(t, w.coding, resp.Header.Get("Content-Encoding"), path)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		ts := startServer(t, static.Config{Root: dir})
		resp, body := do(t, newClient(), "GET", ts.base+"/only.css", "Accept-Encoding: gzip")
		assert.Equal(t, "body{color:red}", body)
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Empty(t, resp.Header.Get("Vary"))
	})
}

// rawGetAE is rawGet with an Accept-Encoding field: the target goes out
// verbatim (Go's client would clean "/docs/../only.css").
func rawGetAE(t *testing.T, addr, target, ae string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "+ae+"\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestPrecompressedRevalidate: the cache notices siblings that appear,
// change or vanish, and an original edited after its sibling (the sibling
// is then stale and not served), at the next revalidation. CacheStats
// counts the siblings' bytes.
func TestPrecompressedRevalidate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	require.NoError(t, os.WriteFile(p, []byte("original text, version one"), 0o644))
	ts := startServer(t, static.Config{Root: dir, Precompressed: true, Revalidate: time.Hour})
	c := newClient()
	get := func() (coding, body, vary string) {
		resp, body := do(t, c, "GET", ts.base+"/f.txt", "Accept-Encoding: gzip")
		require.Equal(t, 200, resp.StatusCode)
		return resp.Header.Get("Content-Encoding"), body, resp.Header.Get("Vary")
	}
	coding, body, vary := get()
	assert.Equal(t, "", coding)
	assert.Equal(t, "", vary)
	files, bytes := ts.h.CacheStats()
	assert.Equal(t, 1, files)
	assert.EqualValues(t, len(body), bytes)

	compress(t, p, "gzip")
	coding, _, _ = get()
	assert.Equal(t, "", coding, "cached until revalidated")
	ts.h.Revalidate()
	coding, body, vary = get()
	assert.Equal(t, "gzip", coding, "a new sibling is served after revalidation")
	assert.Equal(t, readFile(t, p+".gz"), body)
	assert.Equal(t, "Accept-Encoding", vary)
	_, bytes = ts.h.CacheStats()
	assert.EqualValues(t, len(readFile(t, p))+len(body), bytes, "the sibling's bytes are counted")

	require.NoError(t, os.WriteFile(p+".gz", []byte("a rewritten sibling, longer than before"), 0o644))
	ts.h.Revalidate()
	_, body, _ = get()
	assert.Equal(t, "a rewritten sibling, longer than before", body)

	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(p, later, later))
	ts.h.Revalidate()
	coding, body, vary = get()
	assert.Equal(t, "", coding, "the original is newer: its sibling is stale")
	assert.Equal(t, "original text, version one", body)
	assert.Equal(t, "", vary)

	require.NoError(t, os.Chtimes(p+".gz", later, later))
	ts.h.Revalidate()
	coding, _, _ = get()
	assert.Equal(t, "gzip", coding, "recompressed: served again")

	require.NoError(t, os.Remove(p+".gz"))
	ts.h.Revalidate()
	coding, body, vary = get()
	assert.Equal(t, "", coding, "a removed sibling is not served")
	assert.Equal(t, "original text, version one", body)
	assert.Equal(t, "", vary)
}

// TestPrecompressedCurl: curl --compressed asks for every coding it can
// decode and gets the original text back from each real sibling; without
// --compressed curl sends no Accept-Encoding and gets the file itself.
// It needs curl built with brotli and zstd, and the brotli and zstd
// commands (Debian: curl, brotli, zstd).
func TestPrecompressedCurl(t *testing.T) {
	for _, tool := range []string{"curl", "brotli", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dir := appJS(t)
	want := readFile(t, filepath.Join(dir, "app.js"))
	ts := startServer(t, static.Config{Root: dir, Precompressed: true})
	curl := func(args ...string) (head, body string) {
		hf := filepath.Join(t.TempDir(), "head")
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "20", "-D", hf}, args...)...).Output()
		require.NoError(t, err)
		return readFile(t, hf), string(out)
	}
	for _, coding := range []string{"br", "zstd", "gzip"} {
		head, body := curl("--compressed", "-H", "Accept-Encoding: "+coding, ts.base+"/app.js")
		assert.Contains(t, strings.ToLower(head), "content-encoding: "+coding+"\r\n")
		assert.Equal(t, want, body, "curl decoded %s", coding)
		head, body = curl("-H", "Accept-Encoding: "+coding, ts.base+"/app.js")
		assert.Equal(t, readFile(t, filepath.Join(dir, "app.js"+exts[coding])), body, "raw %s bytes", coding)
		assert.Contains(t, strings.ToLower(head), "vary: accept-encoding\r\n")
	}
	head, body := curl("--compressed", ts.base+"/app.js")
	assert.Contains(t, strings.ToLower(head), "content-encoding: br\r\n", "curl's own list prefers br here")
	assert.Equal(t, want, body)
	head, body = curl(ts.base + "/app.js")
	assert.NotContains(t, strings.ToLower(head), "content-encoding")
	assert.Equal(t, want, body)
}

package static_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// Config.NotFound answers every 404 with the site's own page, whichever
// path decided it: the route (a refused name, on the worker), the
// resolution (a missing file, a directory without an index: offloaded on
// io_uring, on the connection's goroutine on netpoll).
func TestNotFoundPage(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"index.html":      "home",
		"errors/404.html": "<h1>nothing here</h1>",
		"empty/.keep":     "",
		"docs/readme.txt": "r",
	})
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ts := startServerOn(t, static.Config{Root: dir, NotFound: "errors/404.html"}, e.engine)
			for _, path := range []string{"/missing", "/empty/", "/%2e%2e/etc/passwd", "/docs/nope.txt"} {
				resp, err := http.Get(ts.base + path)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, 404, resp.StatusCode, path)
				assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), path)
				assert.Equal(t, "<h1>nothing here</h1>", string(body), path)
			}
			resp, err := http.Get(ts.base + "/")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "home", string(body))
		})
	}
}

// The page is resolved under the root like a request: nothing outside it,
// and it must exist (a typo fails at startup, not at the first 404).
func TestNotFoundPageMustBeUnderRoot(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "site")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret.html"), []byte("s"), 0o644))
	for _, nf := range []string{"../secret.html", "missing.html", "."} {
		_, err := static.New(static.Config{Root: dir, NotFound: nf})
		assert.Error(t, err, nf)
	}
}

package static_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// TestAgreesWithNetHTTP sends the same requests to uringd's static handler
// and to net/http's FileServer over the same directory and compares status,
// body and the headers both define. Known, intended differences are not
// sent: several ranges (FileServer answers multipart/byteranges, we answer
// 200), directories without an index (FileServer lists them, we 404), and
// ETag (FileServer sends none).
func TestAgreesWithNetHTTP(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.txt":           "0123456789abcdefghijklmnopqrstuvwxyz",
		"page.html":       "<p>x</p>",
		"docs/index.html": "<h1>docs</h1>",
	})
	randomFile(t, dir, "big.bin", 300<<10, 5)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, f := range []string{"a.txt", "page.html", "big.bin", "docs/index.html"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, f), old, old))
	}
	ours := startServer(t, static.Config{Root: dir})
	std := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(std.Close)
	c := newClient()

	lm := old.Format(http.TimeFormat)
	cases := []struct {
		path string
		hdr  []string
	}{
		{"/a.txt", nil},
		{"/page.html", nil},
		{"/big.bin", nil},
		{"/docs/", nil},
		{"/docs", nil},
		{"/nope", nil},
		{"/a.txt", []string{"Range: bytes=3-7"}},
		{"/a.txt", []string{"Range: bytes=30-"}},
		{"/a.txt", []string{"Range: bytes=-4"}},
		{"/a.txt", []string{"Range: bytes=36-"}},
		{"/a.txt", []string{"Range: bytes=0-1000"}},
		{"/big.bin", []string{"Range: bytes=100000-200000"}},
		{"/big.bin", []string{"Range: bytes=-1"}},
		{"/a.txt", []string{"If-Modified-Since: " + lm}},
		{"/a.txt", []string{"If-Modified-Since: " + old.Add(-time.Hour).Format(http.TimeFormat)}},
		{"/a.txt", []string{"If-Unmodified-Since: " + old.Add(-time.Hour).Format(http.TimeFormat)}},
		{"/a.txt", []string{"Range: bytes=1-2", "If-Range: " + lm}},
		{"/a.txt", []string{"Range: bytes=1-2", "If-Range: " + old.Add(time.Hour).Format(http.TimeFormat)}},
		{"/big.bin", []string{"If-Modified-Since: " + lm}},
	}
	for _, method := range []string{"GET", "HEAD"} {
		for _, tc := range cases {
			name := method + " " + tc.path
			for _, h := range tc.hdr {
				name += " [" + h + "]"
			}
			a, abody := do(t, c, method, ours.base+tc.path, tc.hdr...)
			b, bbody := do(t, c, method, std.URL+tc.path, tc.hdr...)
			require.Equal(t, b.StatusCode, a.StatusCode, name)
			switch a.StatusCode {
			case 200, 206, 304:
				assert.Equal(t, bbody, abody, name)
				for _, k := range []string{"Content-Length", "Content-Range", "Last-Modified", "Content-Type"} {
					assert.Equal(t, b.Header.Get(k), a.Header.Get(k), "%s: %s", name, k)
				}
			case 416:
				assert.Equal(t, b.Header.Get("Content-Range"), a.Header.Get("Content-Range"), name)
			case 301: // FileServer's Location is relative ("docs/"), ours absolute: the same target
				assert.Equal(t, std.URL+"/docs/", b.Request.URL.ResolveReference(mustURL(t, b.Header.Get("Location"))).String())
				assert.Equal(t, ours.base+"/docs/", a.Request.URL.ResolveReference(mustURL(t, a.Header.Get("Location"))).String())
			}
			// Error and redirect bodies differ in wording only.
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

package static_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

var site = map[string]string{
	"index.html":         "<h1>home</h1>",
	"a.css":              "body{}",
	"app.js":             "let x",
	"mod.mjs":            "export {}",
	"data.json":          "{}",
	"img.svg":            "<svg/>",
	"pic.png":            "\x89PNG",
	"pic.JPG":            "jpg",
	"w.wasm":             "\x00asm",
	"f.woff2":            "wOF2",
	"v.mp4":              "mp4",
	"readme.txt":         "hello, world\n",
	"blob.unknownext":    "???",
	"noext":              "x",
	"docs/index.html":    "<h1>docs</h1>",
	"empty/.keep":        "",
	"sub/deeper/file.md": "# md",
	"zero.txt":           "",
}

func TestServeGETHeadersAndTypes(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	ts := startServer(t, static.Config{Root: dir, CacheControl: "public, max-age=60"})
	c := newClient()
	cases := []struct{ path, ctype, body string }{
		{"/a.css", "text/css; charset=utf-8", "body{}"},
		{"/app.js", "text/javascript; charset=utf-8", "let x"},
		{"/mod.mjs", "text/javascript; charset=utf-8", "export {}"},
		{"/data.json", "application/json", "{}"},
		{"/img.svg", "image/svg+xml", "<svg/>"},
		{"/pic.png", "image/png", "\x89PNG"},
		{"/pic.JPG", "image/jpeg", "jpg"},
		{"/w.wasm", "application/wasm", "\x00asm"},
		{"/f.woff2", "font/woff2", "wOF2"},
		{"/v.mp4", "video/mp4", "mp4"},
		{"/readme.txt", "text/plain; charset=utf-8", "hello, world\n"},
		{"/blob.unknownext", "application/octet-stream", "???"},
		{"/noext", "application/octet-stream", "x"},
		{"/", "text/html; charset=utf-8", "<h1>home</h1>"},
		{"/docs/", "text/html; charset=utf-8", "<h1>docs</h1>"},
		{"/sub/deeper/file.md", "text/markdown; charset=utf-8", "# md"},
		{"/zero.txt", "text/plain; charset=utf-8", ""},
		{"/r%65adme.txt", "text/plain; charset=utf-8", "hello, world\n"}, // %65 = 'e'
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			for round := 0; round < 2; round++ { // miss, then cache hit
				resp, body := do(t, c, "GET", ts.base+tc.path)
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, tc.body, body)
				assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
				assert.Equal(t, strconv.Itoa(len(tc.body)), resp.Header.Get("Content-Length"))
				assert.Equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
				assert.Equal(t, "public, max-age=60", resp.Header.Get("Cache-Control"))
				assert.Regexp(t, `^"[0-9a-f]+-[0-9a-f]+"$`, resp.Header.Get("ETag"))
				_, err := http.ParseTime(resp.Header.Get("Last-Modified"))
				assert.NoError(t, err)
				assert.NotEmpty(t, resp.Header.Get("Date"))
			}
		})
	}
}

func TestServeHEAD(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	big := make([]byte, 300<<10) // streamed, not cached
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	ts := startServer(t, static.Config{Root: dir})
	c := newClient()
	for _, p := range []string{"/readme.txt", "/big.bin", "/"} {
		for round := 0; round < 2; round++ {
			get, gbody := do(t, c, "GET", ts.base+p)
			head, hbody := do(t, c, "HEAD", ts.base+p)
			require.Equal(t, 200, head.StatusCode, p)
			assert.Empty(t, hbody)
			assert.Equal(t, strconv.Itoa(len(gbody)), head.Header.Get("Content-Length"), p)
			assert.Equal(t, get.Header.Get("ETag"), head.Header.Get("ETag"))
			assert.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
		}
	}
}

func TestServeMethodNotAllowed(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	ts := startServer(t, static.Config{Root: dir})
	c := newClient()
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "PATCH"} {
		resp, _ := do(t, c, m, ts.base+"/readme.txt")
		assert.Equal(t, 405, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), m)
	}
}

func TestServeNotFoundAndRedirects(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	ts := startServer(t, static.Config{Root: dir})
	c := newClient()

	for _, p := range []string{"/nope", "/docs/nope.html", "/readme.txt/", "/empty/", "/sub/"} {
		resp, _ := do(t, c, "GET", ts.base+p)
		assert.Equal(t, 404, resp.StatusCode, p) // no index, listing off
	}
	cases := []struct{ target, loc string }{
		{"/docs", "/docs/"},
		{"/docs?x=1&y=2", "/docs/?x=1&y=2"},
		{"/sub/deeper", "/sub/deeper/"},
	}
	for _, tc := range cases {
		resp, _ := rawGet(t, ts.addr, tc.target)
		assert.Equal(t, 301, resp.StatusCode, tc.target)
		assert.Equal(t, tc.loc, resp.Header.Get("Location"), tc.target)
	}
	// "//evil.example/docs" style: the Location never starts with "//".
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "evil.example"), 0o755))
	resp, _ := rawGet(t, ts.addr, "//evil.example")
	require.Equal(t, 301, resp.StatusCode)
	assert.Equal(t, "/evil.example/", resp.Header.Get("Location"))
}

func TestServePrefixMount(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	ts := startServer(t, static.Config{Root: dir, Prefix: "/static/"})
	c := newClient()
	resp, body := do(t, c, "GET", ts.base+"/static/readme.txt")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "hello, world\n", body)
	resp, _ = rawGet(t, ts.addr, "/static?q")
	assert.Equal(t, 301, resp.StatusCode)
	assert.Equal(t, "/static/?q", resp.Header.Get("Location"))
	resp, body = do(t, c, "GET", ts.base+"/static/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "<h1>home</h1>", body)
	resp, _ = do(t, c, "GET", ts.base+"/readme.txt")
	assert.Equal(t, 404, resp.StatusCode) // outside the mount: the router's 404
}

func TestServeListing(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"list/b.txt":                 "b",
		"list/a <&>\".txt":           "a",
		"list/\"><script>x</script>": "x",
		"list/sub/c.txt":             "c",
		"list/javascript:alert(1)":   "j",
	})
	ts := startServer(t, static.Config{Root: dir, Listing: true})
	c := newClient()
	resp, body := do(t, c, "GET", ts.base+"/list/")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `<a href="b.txt">b.txt</a>`)
	assert.Contains(t, body, `<a href="sub/">sub/</a>`)
	assert.Contains(t, body, `a &lt;&amp;&gt;&#34;.txt`)
	assert.NotContains(t, body, "<script>")
	assert.NotContains(t, body, `href="javascript:`)
	assert.Less(t, strings.Index(body, "b.txt"), strings.Index(body, "sub/"))
}

func TestServeConditional(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, site)
	big := make([]byte, 200<<10)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	ts := startServer(t, static.Config{Root: dir, CacheControl: "no-cache"})
	c := newClient()
	for _, p := range []string{"/readme.txt", "/big.bin"} {
		t.Run(p, func(t *testing.T) {
			first, _ := do(t, c, "GET", ts.base+p)
			etag, lm := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
			mt, err := http.ParseTime(lm)
			require.NoError(t, err)
			later := mt.Add(time.Hour).Format(http.TimeFormat)
			earlier := mt.Add(-time.Hour).Format(http.TimeFormat)
			rfc850 := mt.Add(time.Hour).Format("Monday, 02-Jan-06 15:04:05 GMT")

			cases := []struct {
				name   string
				hdr    []string
				status int
			}{
				{"INM match", []string{"If-None-Match: " + etag}, 304},
				{"INM weak match", []string{"If-None-Match: W/" + etag}, 304},
				{"INM list", []string{`If-None-Match: "x", ` + etag}, 304},
				{"INM star", []string{"If-None-Match: *"}, 304},
				{"INM miss", []string{`If-None-Match: "nope"`}, 200},
				{"IMS same", []string{"If-Modified-Since: " + lm}, 304},
				{"IMS later", []string{"If-Modified-Since: " + later}, 304},
				{"IMS rfc850", []string{"If-Modified-Since: " + rfc850}, 304},
				{"IMS earlier", []string{"If-Modified-Since: " + earlier}, 200},
				{"IMS garbage", []string{"If-Modified-Since: yesterday"}, 200},
				// §13.2.2: If-None-Match wins over If-Modified-Since.
				{"INM miss beats IMS", []string{`If-None-Match: "nope"`, "If-Modified-Since: " + later}, 200},
				{"INM match beats IMS", []string{"If-None-Match: " + etag, "If-Modified-Since: " + earlier}, 304},
				{"IfMatch ok", []string{"If-Match: " + etag}, 200},
				{"IfMatch fail", []string{`If-Match: "nope"`}, 412},
				{"IfMatch weak never", []string{"If-Match: W/" + etag}, 412},
				{"IUS fail", []string{"If-Unmodified-Since: " + earlier}, 412},
				{"IUS ok", []string{"If-Unmodified-Since: " + later}, 200},
			}
			for _, tc := range cases {
				resp, body := do(t, c, "GET", ts.base+p, tc.hdr...)
				require.Equal(t, tc.status, resp.StatusCode, tc.name)
				if tc.status == 304 {
					assert.Empty(t, body, tc.name)
					assert.Equal(t, etag, resp.Header.Get("ETag"), tc.name)
					assert.Equal(t, lm, resp.Header.Get("Last-Modified"), tc.name)
					assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), tc.name)
					assert.Empty(t, resp.Header.Get("Content-Length"), tc.name)
				}
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]static.Config{
		"no root":        {},
		"missing root":   {Root: filepath.Join(dir, "nope")},
		"root is a file": {Root: filepath.Join(dir, "f")},
		"prefix":         {Root: dir, Prefix: "static"},
		"double slash":   {Root: dir, Prefix: "//x/"},
		"index path":     {Root: dir, Index: "a/index.html"},
		"cache-control":  {Root: dir, CacheControl: "max-age=1\r\nX-Evil: 1"},
		"chunk":          {Root: dir, ChunkSize: -1},
		"revalidate":     {Root: dir, Revalidate: -time.Second},
	} {
		if name == "root is a file" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), nil, 0o644))
		}
		h, err := static.New(cfg)
		assert.Error(t, err, name)
		assert.Nil(t, h, name)
	}
}

package static_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// exts maps a content coding to the suffix of its sibling file.
var exts = map[string]string{"br": ".br", "zstd": ".zst", "gzip": ".gz"}

// compress writes path+ext for each of codings, compressed for real: gzip
// with compress/gzip, br and zstd with the brotli and zstd commands (both
// keep the original's mtime, as in a build pipeline). Without the command
// the sibling holds marker bytes instead: the server sends siblings
// verbatim, so only the decoding tests (curl) need the real thing.
func compress(t *testing.T, path string, codings ...string) {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, c := range codings {
		dst := path + exts[c]
		switch c {
		case "gzip":
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(src)
			require.NoError(t, zw.Close())
			require.NoError(t, os.WriteFile(dst, b.Bytes(), 0o644))
			continue
		case "br":
			if _, err := exec.LookPath("brotli"); err == nil {
				out, err := exec.Command("brotli", "-f", "-k", "-o", dst, path).CombinedOutput()
				require.NoError(t, err, "%s", out)
				continue
			}
		case "zstd":
			if _, err := exec.LookPath("zstd"); err == nil {
				out, err := exec.Command("zstd", "-q", "-f", "-k", "-o", dst, path).CombinedOutput()
				require.NoError(t, err, "%s", out)
				continue
			}
		}
		require.NoError(t, os.WriteFile(dst, append([]byte("not really "+c+": "), src[:10]...), 0o644))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// pcConfigs are the three ways a file is answered: from the cache (on the
// worker for a hit), uncached (the cache is off: every request opens the
// files), and streamed (larger than MaxCachedFile, read in chunks).
var pcConfigs = []struct {
	name string
	cfg  func(root string) static.Config
}{
	{"cached", func(root string) static.Config {
		return static.Config{Root: root, Precompressed: true, Revalidate: time.Hour}
	}},
	{"uncached", func(root string) static.Config {
		return static.Config{Root: root, Precompressed: true, MaxCachedFile: -1}
	}},
	{"streamed", func(root string) static.Config {
		return static.Config{Root: root, Precompressed: true, MaxCachedFile: 100, ChunkSize: 512}
	}},
}

// forEachServer runs f against a server per engine and configuration.
func forEachServer(t *testing.T, dir string, f func(t *testing.T, ts *testServer)) {
	for _, e := range engines {
		for _, pc := range pcConfigs {
			t.Run(e.name+"/"+pc.name, func(t *testing.T) {
				f(t, startServerOn(t, pc.cfg(dir), e.engine))
			})
		}
	}
}

// appJS is a file with all three siblings.
func appJS(t *testing.T) (dir string) {
	dir = t.TempDir()
	p := filepath.Join(dir, "app.js")
	var b strings.Builder
	for i := range 400 { // compresses to some KiB: several chunks when streamed
		fmt.Fprintf(&b, "console.log(%d);\n", i*i*7919%100003)
	}
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	compress(t, p, "br", "zstd", "gzip")
	return dir
}

// identityTag is the form of the file's own ETag; codingTag a sibling's.
const identityTag = `^"[0-9a-f]+-[0-9a-f]+"$`

func codingTag(c string) string { return `^"[0-9a-f]+-[0-9a-f]+-` + c + `"$` }

// TestPrecompressedNegotiation: the sibling the client's Accept-Encoding
// prefers is sent byte for byte (Go's client with DisableCompression sees
// the raw bytes), with Content-Encoding, the original's Content-Type, the
// sibling's length and Last-Modified, an ETag per coding, and Vary on the
// identity answer too; HEAD has the same fields. Absent, malformed or
// refusing headers get the file itself. Miss and hit, both engines, cached,
// uncached and streamed.
func TestPrecompressedNegotiation(t *testing.T) {
	dir := appJS(t)
	forEachServer(t, dir, func(t *testing.T, ts *testServer) {
		c := newClient()
		cases := []struct{ ae, want string }{
			{"", "identity"},
			{"gzip", "gzip"},
			{"gzip, deflate, br, zstd", "br"}, // Chrome's
			{"zstd, gzip", "zstd"},
			{"br;q=0, gzip", "gzip"},
			{"GZip;Q=0.5, zstd;q=0.4", "gzip"},
			{"*", "br"},
			{"*;q=0", "identity"},
			{"identity", "identity"},
			{"gzip;q=2", "identity"}, // malformed
			{"deflate", "identity"},
		}
		tags := map[string]string{}
		for _, tc := range cases {
			file := filepath.Join(dir, "app.js")
			if tc.want != "identity" {
				file += exts[tc.want]
			}
			want := readFile(t, file)
			st, err := os.Stat(file)
			require.NoError(t, err)
			for round := 0; round < 2; round++ { // miss, then hit
				var hdr []string
				if tc.ae != "" {
					hdr = append(hdr, "Accept-Encoding: "+tc.ae)
				}
				for _, method := range []string{"GET", "HEAD"} {
					resp, body := do(t, c, method, ts.base+"/app.js", hdr...)
					require.Equal(t, 200, resp.StatusCode, "%q", tc.ae)
					if method == "GET" {
						require.Equal(t, want, body, "%q: the %s bytes", tc.ae, tc.want)
					} else {
						require.Empty(t, body)
					}
					h := resp.Header
					assert.Equal(t, strconv.Itoa(len(want)), h.Get("Content-Length"), "%q %s", tc.ae, method)
					assert.Equal(t, "text/javascript; charset=utf-8", h.Get("Content-Type"), "%q", tc.ae)
					assert.Equal(t, "Accept-Encoding", h.Get("Vary"), "%q", tc.ae)
					assert.Equal(t, "bytes", h.Get("Accept-Ranges"))
					assert.Equal(t, st.ModTime().UTC().Format(http.TimeFormat), h.Get("Last-Modified"), "%q", tc.ae)
					if tc.want == "identity" {
						assert.Empty(t, h.Values("Content-Encoding"), "%q", tc.ae)
						assert.Regexp(t, identityTag, h.Get("ETag"))
					} else {
						assert.Equal(t, []string{tc.want}, h.Values("Content-Encoding"), "%q", tc.ae)
						assert.Regexp(t, codingTag(tc.want), h.Get("ETag"))
					}
					if prev, ok := tags[tc.want]; ok {
						assert.Equal(t, prev, h.Get("ETag"), "one tag per representation")
					}
					tags[tc.want] = h.Get("ETag")
				}
			}
		}
		require.Len(t, tags, 4)
		distinct := map[string]bool{}
		for _, tag := range tags {
			distinct[tag] = true
		}
		assert.Len(t, distinct, 4, "each coding its own ETag: %v", tags)
	})
}

// TestPrecompressedConditionalsAndRanges: validators and ranges are those of
// the representation sent. If-None-Match with the encoded ETag is 304 (with
// Vary and that ETag) only when that coding would be sent; the identity tag
// does not match the encoded answer. A Range is taken from the encoded
// bytes (Content-Range over the sibling's size), If-Range compares with the
// encoded tag, a 416 counts the encoded size, and If-Match with another
// representation's tag fails.
func TestPrecompressedConditionalsAndRanges(t *testing.T) {
	dir := appJS(t)
	gz := readFile(t, filepath.Join(dir, "app.js.gz"))
	plainJS := readFile(t, filepath.Join(dir, "app.js"))
	forEachServer(t, dir, func(t *testing.T, ts *testServer) {
		c := newClient()
		url := ts.base + "/app.js"
		resp, _ := do(t, c, "GET", url, "Accept-Encoding: gzip")
		gzTag := resp.Header.Get("ETag")
		resp, _ = do(t, c, "GET", url)
		idTag := resp.Header.Get("ETag")
		require.NotEqual(t, gzTag, idTag)

		resp, body := do(t, c, "GET", url, "Accept-Encoding: gzip", "If-None-Match: "+gzTag)
		assert.Equal(t, 304, resp.StatusCode)
		assert.Empty(t, body)
		assert.Equal(t, gzTag, resp.Header.Get("ETag"))
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"), "Vary on a 304 too")

		resp, body = do(t, c, "GET", url, "Accept-Encoding: gzip", "If-None-Match: "+idTag)
		assert.Equal(t, 200, resp.StatusCode, "the identity tag does not validate the gzip answer")
		assert.Equal(t, gz, body)

		resp, body = do(t, c, "GET", url, "If-None-Match: "+gzTag)
		assert.Equal(t, 200, resp.StatusCode, "the gzip tag does not validate the identity answer")
		assert.Equal(t, plainJS, body)
		assert.Equal(t, idTag, resp.Header.Get("ETag"))

		resp, _ = do(t, c, "GET", url, "If-None-Match: W/"+idTag+", "+gzTag)
		assert.Equal(t, 304, resp.StatusCode)
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))

		n := len(gz)
		for _, tc := range []struct {
			rng        string
			start, end int
		}{{"bytes=3-10", 3, 10}, {"bytes=-5", n - 5, n - 1}, {"bytes=100-", 100, n - 1}} {
			resp, body = do(t, c, "GET", url, "Accept-Encoding: gzip", "Range: "+tc.rng)
			require.Equal(t, 206, resp.StatusCode, tc.rng)
			assert.Equal(t, gz[tc.start:tc.end+1], body, tc.rng)
			assert.Equal(t, "bytes "+strconv.Itoa(tc.start)+"-"+strconv.Itoa(tc.end)+"/"+strconv.Itoa(n),
				resp.Header.Get("Content-Range"), tc.rng)
			assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
			assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
			assert.Equal(t, strconv.Itoa(tc.end-tc.start+1), resp.Header.Get("Content-Length"))
		}

		resp, _ = do(t, c, "GET", url, "Accept-Encoding: gzip", "Range: bytes="+strconv.Itoa(n)+"-")
		assert.Equal(t, 416, resp.StatusCode, "past the encoded end")
		assert.Equal(t, "bytes */"+strconv.Itoa(n), resp.Header.Get("Content-Range"))
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		assert.Empty(t, resp.Header.Get("Content-Encoding"), "the 416 text is not gzip")

		resp, body = do(t, c, "GET", url, "Accept-Encoding: gzip", "Range: bytes=0-1", "If-Range: "+gzTag)
		assert.Equal(t, 206, resp.StatusCode)
		assert.Equal(t, gz[:2], body)
		resp, body = do(t, c, "GET", url, "Accept-Encoding: gzip", "Range: bytes=0-1", "If-Range: "+idTag)
		assert.Equal(t, 200, resp.StatusCode, "If-Range with the other representation's tag: all of it")
		assert.Equal(t, gz, body)

		resp, _ = do(t, c, "GET", url, "Accept-Encoding: gzip", "If-Match: "+idTag)
		assert.Equal(t, 412, resp.StatusCode)
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		resp, body = do(t, c, "GET", url, "Accept-Encoding: gzip", "If-Match: "+gzTag)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, gz, body)
	})
}

// TestPrecompressedGoClientDecodes: Go's default transport asks for gzip
// itself and decompresses transparently; it gets the original text back.
func TestPrecompressedGoClientDecodes(t *testing.T) {
	dir := appJS(t)
	want := readFile(t, filepath.Join(dir, "app.js"))
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ts := startServerOn(t, static.Config{Root: dir, Precompressed: true}, e.engine)
			c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			for round := 0; round < 2; round++ {
				resp, body := do(t, c, "GET", ts.base+"/app.js")
				require.Equal(t, 200, resp.StatusCode)
				assert.True(t, resp.Uncompressed, "the transport decoded a gzip body")
				assert.Equal(t, want, body)
			}
		})
	}
}

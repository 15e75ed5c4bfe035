package static_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

func TestServeRanges(t *testing.T) {
	dir := t.TempDir()
	small := "0123456789abcdefghij" // 20 bytes, cached
	big := make([]byte, 300<<10)    // streamed
	for i := range big {
		big[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.txt"), []byte(small), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.bin"), big, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "e.txt"), nil, 0o644))
	ts := startServer(t, static.Config{Root: dir})
	c := newClient()

	files := map[string]string{"/s.txt": small, "/b.bin": string(big)}
	for p, content := range files {
		n := len(content)
		cases := []struct {
			rng        string
			status     int
			start, end int
		}{
			{"bytes=0-4", 206, 0, 4},
			{"bytes=5-", 206, 5, n - 1},
			{"bytes=-3", 206, n - 3, n - 1},
			{"bytes=-100000000", 206, 0, n - 1},
			{"bytes=3-3", 206, 3, 3},
			{"bytes=2-100000000", 206, 2, n - 1},
			{"bytes=2-99999999999999999999999", 206, 2, n - 1},
			{"bytes=-99999999999999999999999", 206, 0, n - 1},
			{"BYTES=1-2", 206, 1, 2},
			{"bytes = 1-2", 200, 0, n - 1},   // no whitespace around "=" in the grammar
			{"bytes=0-1,4-5", 200, 0, n - 1}, // several ranges: the whole file
			{"bytes=5-3", 200, 0, n - 1},     // invalid: ignored
			{"items=0-1", 200, 0, n - 1},     // unknown unit: ignored
			{"bytes=x-y", 200, 0, n - 1},
		}
		for _, tc := range cases {
			resp, body := do(t, c, "GET", ts.base+p, "Range: "+tc.rng)
			require.Equal(t, tc.status, resp.StatusCode, "%s %s", p, tc.rng)
			assert.Equal(t, content[tc.start:tc.end+1], body, "%s %s", p, tc.rng)
			assert.Equal(t, strconv.Itoa(tc.end-tc.start+1), resp.Header.Get("Content-Length"))
			if tc.status == 206 {
				want := "bytes " + strconv.Itoa(tc.start) + "-" + strconv.Itoa(tc.end) + "/" + strconv.Itoa(n)
				assert.Equal(t, want, resp.Header.Get("Content-Range"), "%s %s", p, tc.rng)
			} else {
				assert.Empty(t, resp.Header.Get("Content-Range"))
			}
		}
		for _, rng := range []string{"bytes=" + strconv.Itoa(n) + "-", "bytes=-0", "bytes=99999999-", "bytes=99999999999999999999999-"} {
			resp, _ := do(t, c, "GET", ts.base+p, "Range: "+rng)
			require.Equal(t, 416, resp.StatusCode, "%s %s", p, rng)
			assert.Equal(t, "bytes */"+strconv.Itoa(n), resp.Header.Get("Content-Range"))
		}
		// HEAD with a range: 206 headers, no body.
		resp, body := do(t, c, "HEAD", ts.base+p, "Range: bytes=1-2")
		assert.Equal(t, 206, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("Content-Length"))
		assert.Empty(t, body)
	}
	resp, _ := do(t, c, "GET", ts.base+"/e.txt", "Range: bytes=0-")
	assert.Equal(t, 416, resp.StatusCode)
	assert.Equal(t, "bytes */0", resp.Header.Get("Content-Range"))
}

func TestServeIfRange(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.txt"), []byte("0123456789"), 0o644))
	ts := startServer(t, static.Config{Root: dir})
	c := newClient()
	first, _ := do(t, c, "GET", ts.base+"/s.txt")
	etag, lm := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	mt, err := http.ParseTime(lm)
	require.NoError(t, err)
	cases := []struct {
		ifRange string
		status  int
		body    string
	}{
		{etag, 206, "23"},
		{lm, 206, "23"},
		{`"other"`, 200, "0123456789"},
		{"W/" + etag, 200, "0123456789"}, // weak tags never match If-Range
		{mt.Add(-1e9).Format(http.TimeFormat), 200, "0123456789"},
	}
	for _, tc := range cases {
		resp, body := do(t, c, "GET", ts.base+"/s.txt", "Range: bytes=2-3", "If-Range: "+tc.ifRange)
		assert.Equal(t, tc.status, resp.StatusCode, tc.ifRange)
		assert.Equal(t, tc.body, body, tc.ifRange)
	}
}

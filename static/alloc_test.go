package static_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/static"
)

// hitRig calls the handler directly, the way a worker does, so that
// AllocsPerRun counts only the handler's allocations.
type hitRig struct {
	h    *static.Handler
	req  uringd.Request
	resp http1.Response
	out  []byte
	date http1.DateCache
}

func newHitRig(tb testing.TB, size int, hdr ...http1.Header) *hitRig {
	return newHitRigIn(tb, tb.TempDir(), size, false, hdr...)
}

// newHitRigIn serves f.css (size bytes, created) from dir, which may hold
// its precompressed siblings (precompressed: Config.Precompressed).
func newHitRigIn(tb testing.TB, dir string, size int, precompressed bool, hdr ...http1.Header) *hitRig {
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "f.css"), make([]byte, size), 0o644))
	h, err := static.New(static.Config{Root: dir, Revalidate: time.Hour, Precompressed: precompressed})
	require.NoError(tb, err)
	tb.Cleanup(func() { h.Close() })
	g := &hitRig{h: h, out: make([]byte, 0, size+4096)}
	g.req = uringd.Request{
		Method: []byte("GET"), Target: []byte("/f.css"), Path: []byte("/f.css"),
		ProtoMinor: 1, Host: []byte("x"), ContentLength: -1,
		Headers: append([]http1.Header{{Name: []byte("Host"), Value: []byte("x")}}, hdr...),
	}
	g.date.Update(time.Now())
	g.serve() // the miss fills the cache
	return g
}

func (g *hitRig) serve() []byte {
	g.resp.Reset(g.out[:0], &g.req, g.date.Bytes())
	g.h.ServeHTTP((*uringd.Response)(&g.resp), &g.req)
	return g.resp.Finish()
}

func TestCacheHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, tc := range []struct {
		name string
		hdr  []http1.Header
	}{
		{"200", nil},
		{"206", []http1.Header{{Name: []byte("Range"), Value: []byte("bytes=10-99")}}},
		{"304", []http1.Header{{Name: []byte("If-Modified-Since"), Value: []byte("Fri, 01 Jan 2100 00:00:00 GMT")}}},
		{"304", []http1.Header{{Name: []byte("If-None-Match"), Value: []byte("*")}}},
		{"412", []http1.Header{{Name: []byte("If-Match"), Value: []byte(`"nope"`)}}},
		{"416", []http1.Header{{Name: []byte("Range"), Value: []byte("bytes=999999-")}}},
		{"200", []http1.Header{{Name: []byte("Range"), Value: []byte("bytes=1-2,5-6")}}},
	} {
		t.Run(tc.name+"/"+headerNames(tc.hdr), func(t *testing.T) {
			g := newHitRig(t, 1024, tc.hdr...)
			out := g.serve()
			require.Contains(t, string(out), "HTTP/1.1 "+tc.name)
			n := testing.AllocsPerRun(1000, func() { g.serve() })
			require.Zero(t, n, "allocations per cache hit")
		})
	}
}

// TestPrecompressedHitAllocs: a hit on a file with siblings negotiates
// Accept-Encoding and sends the sibling (or, refused, the file) with no
// allocation either.
func TestPrecompressedHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ae := func(v string) http1.Header { return http1.Header{Name: []byte("Accept-Encoding"), Value: []byte(v)} }
	for _, tc := range []struct {
		status, coding string
		hdr            []http1.Header
	}{
		{"200", "br", []http1.Header{ae("gzip, deflate, br, zstd")}},
		{"200", "gzip", []http1.Header{ae("gzip;q=1, br;q=0.5, *;q=0")}},
		{"200", "", []http1.Header{ae("identity")}},
		{"200", "", nil},
		{"206", "gzip", []http1.Header{ae("gzip"), {Name: []byte("Range"), Value: []byte("bytes=1-5")}}},
		{"304", "", []http1.Header{ae("br"), {Name: []byte("If-None-Match"), Value: []byte("*")}}},
	} {
		t.Run(tc.status+"/"+tc.coding, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f.css.gz"), []byte("gzip bytes"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f.css.br"), []byte("brotli bytes"), 0o644))
			g := newHitRigIn(t, dir, 1024, true, tc.hdr...)
			require.NoError(t, os.Chtimes(filepath.Join(dir, "f.css"), time.Unix(1, 0), time.Unix(1, 0)))
			g.h.Revalidate() // the siblings are not older than f.css now, whatever the clock did
			out := string(g.serve())
			require.Contains(t, out, "HTTP/1.1 "+tc.status)
			require.Contains(t, out, "\r\nVary: Accept-Encoding\r\n")
			if tc.coding != "" {
				require.Contains(t, out, "\r\nContent-Encoding: "+tc.coding+"\r\n")
			} else {
				require.NotContains(t, out, "Content-Encoding")
			}
			files, _ := g.h.CacheStats()
			require.Equal(t, 1, files, "a hit, not a miss")
			n := testing.AllocsPerRun(1000, func() { g.serve() })
			require.Zero(t, n, "allocations per cache hit")
		})
	}
}

func benchmarkHit(b *testing.B, size int) {
	g := newHitRig(b, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.serve()
	}
}

func BenchmarkCacheHit1K(b *testing.B)  { benchmarkHit(b, 1<<10) }
func BenchmarkCacheHit64K(b *testing.B) { benchmarkHit(b, 64<<10) }

func headerNames(hs []http1.Header) string {
	s := "none"
	for _, h := range hs {
		s = string(h.Name)
	}
	return s
}

// BenchmarkPrecompressedHit1K is BenchmarkCacheHit1K for a file with a
// gzip and a brotli sibling and Chrome's Accept-Encoding: the cost of the
// negotiation on top of a hit.
func BenchmarkPrecompressedHit1K(b *testing.B) {
	dir := b.TempDir()
	for _, ext := range []string{".gz", ".br"} {
		require.NoError(b, os.WriteFile(filepath.Join(dir, "f.css"+ext), make([]byte, 1<<10), 0o644))
	}
	g := newHitRigIn(b, dir, 1<<10, true, http1.Header{Name: []byte("Accept-Encoding"), Value: []byte("gzip, deflate, br, zstd")})
	require.NoError(b, os.Chtimes(filepath.Join(dir, "f.css"), time.Unix(1, 0), time.Unix(1, 0)))
	g.h.Revalidate()
	require.Contains(b, string(g.serve()), "Content-Encoding: br")
	b.ReportAllocs()
	b.SetBytes(1 << 10)
	for b.Loop() {
		g.serve()
	}
}

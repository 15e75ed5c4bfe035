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
	dir := tb.TempDir()
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "f.css"), make([]byte, size), 0o644))
	h, err := static.New(static.Config{Root: dir, Revalidate: time.Hour})
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

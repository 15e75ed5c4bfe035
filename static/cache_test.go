package static_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// TestCacheServesChange: a cached file rewritten (same size and a new one,
// in place and by rename) is served with its new content and ETag once
// revalidated — by Revalidate here, and by the background revalidator.
func TestCacheServesChange(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	require.NoError(t, os.WriteFile(p, []byte("version-1"), 0o644))
	ts := startServer(t, static.Config{Root: dir, Revalidate: 20 * time.Millisecond})
	c := newClient()
	r1, body := do(t, c, "GET", ts.base+"/f.txt")
	require.Equal(t, "version-1", body)
	n, _ := ts.h.CacheStats()
	require.Equal(t, 1, n)

	// In place, same size: ctime/mtime change is what tells.
	require.NoError(t, os.WriteFile(p, []byte("version-2"), 0o644))
	ts.h.Revalidate()
	r2, body := do(t, c, "GET", ts.base+"/f.txt")
	assert.Equal(t, "version-2", body)
	assert.NotEqual(t, r1.Header.Get("ETag"), r2.Header.Get("ETag"))

	// Atomic deploy: write elsewhere, rename over. No explicit Revalidate:
	// the background goroutine picks it up.
	tmp := filepath.Join(dir, ".f.tmp")
	require.NoError(t, os.WriteFile(tmp, []byte("version-3, longer"), 0o644))
	require.NoError(t, os.Rename(tmp, p))
	require.Eventually(t, func() bool {
		_, body := do(t, c, "GET", ts.base+"/f.txt")
		return body == "version-3, longer"
	}, 10*time.Second, 5*time.Millisecond)

	// Deleted: 404, and the entry is gone.
	require.NoError(t, os.Remove(p))
	ts.h.Revalidate()
	resp, _ := do(t, c, "GET", ts.base+"/f.txt")
	assert.Equal(t, 404, resp.StatusCode)
	n, _ = ts.h.CacheStats()
	assert.Equal(t, 0, n)
}

// TestCacheBounded: the cache never holds more than CacheBytes, files over
// MaxCachedFile are never cached, and every file is still served right.
func TestCacheBounded(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 50; i++ {
		files[fmt.Sprintf("f%02d.txt", i)] = strings.Repeat(string(rune('a'+i%26)), 1000+i)
	}
	files["big.txt"] = strings.Repeat("B", 5000)
	writeTree(t, dir, files)
	ts := startServer(t, static.Config{Root: dir, MaxCachedFile: 4096, CacheBytes: 10_000})
	c := newClient()
	for round := 0; round < 3; round++ {
		for name, content := range files {
			_, body := do(t, c, "GET", ts.base+"/"+name)
			require.Equal(t, content, body, name)
			_, bytes := ts.h.CacheStats()
			require.LessOrEqual(t, bytes, int64(10_000))
		}
	}
	n, bytes := ts.h.CacheStats()
	assert.Positive(t, n)
	assert.LessOrEqual(t, n, 10)
	assert.LessOrEqual(t, bytes, int64(10_000))
}

// TestCacheConcurrentChurn: many clients read small files while a writer
// rewrites them and the revalidator replaces entries (run with -race).
// Every body must be one of the versions written, whole.
func TestCacheConcurrentChurn(t *testing.T) {
	dir := t.TempDir()
	const nFiles = 8
	version := func(i, v int) string { return fmt.Sprintf("file-%d-version-%04d|", i, v) + strings.Repeat("x", i*100) }
	for i := 0; i < nFiles; i++ {
		writeTree(t, dir, map[string]string{fmt.Sprintf("c%d.txt", i): version(i, 0)})
	}
	ts := startServer(t, static.Config{Root: dir, Revalidate: time.Millisecond, CacheBytes: 3000})
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { // writer: atomic replacements until the readers are done
		defer close(writerDone)
		for v := 1; ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			i := v % nFiles
			tmp := filepath.Join(dir, fmt.Sprintf(".c%d.tmp", i))
			if os.WriteFile(tmp, []byte(version(i, v)), 0o644) == nil {
				_ = os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("c%d.txt", i)))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	errs := make(chan string, 16)
	var readers sync.WaitGroup
	for g := 0; g < 16; g++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			c := newClient()
			for k := 0; k < 100; k++ {
				i := (g + k) % nFiles
				resp, body := do(t, c, "GET", fmt.Sprintf("%s/c%d.txt", ts.base, i))
				want := fmt.Sprintf("file-%d-version-", i)
				if resp.StatusCode != 200 || !strings.HasPrefix(body, want) || len(body) != len(version(i, 0)) {
					errs <- fmt.Sprintf("c%d: %d %q", i, resp.StatusCode, body)
					return
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	<-writerDone
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

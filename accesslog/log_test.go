package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var when = time.Date(2026, 12, 2, 3, 4, 5, 6e6, time.FixedZone("", 3600))

func entry() Entry {
	return Entry{
		Remote: netip.MustParseAddrPort("192.0.2.7:51000"), Time: when,
		Method: []byte("GET"), Target: []byte("/a?b=c"), ProtoMinor: 1, Status: 200, BodyBytes: 13,
		Referer: []byte("http://x/"), UserAgent: []byte("curl/8.0"), Duration: 1234 * time.Microsecond,
	}
}

func line(f Format, e *Entry) string {
	var ts timeCache
	return string(appendEntry(nil, f, e, &ts))
}

func TestCombinedIsNginxs(t *testing.T) {
	e := entry()
	assert.Equal(t, `192.0.2.7 - - [02/Dec/2026:03:04:05 +0100] "GET /a?b=c HTTP/1.1" 200 13 "http://x/" "curl/8.0" 0.001`+"\n", line(Combined, &e))
	// No referer or agent: "-"; an unparsed request line: "-"; no address: "-".
	e = Entry{Time: when, Status: 400}
	assert.Equal(t, `- - - [02/Dec/2026:03:04:05 +0100] "-" 400 0 "-" "-" 0.000`+"\n", line(Combined, &e))
	// An IPv4-mapped IPv6 peer logs as IPv4, as nginx does on a dual-stack socket.
	e = entry()
	e.Remote = netip.MustParseAddrPort("[::ffff:192.0.2.7]:1")
	assert.True(t, strings.HasPrefix(line(Combined, &e), "192.0.2.7 - - "))
}

// A client cannot forge a line or a field: quotes, backslashes, control and
// non-ASCII bytes are escaped as \xHH (nginx's escape=default).
func TestCombinedEscapesWhatTheClientSent(t *testing.T) {
	e := entry()
	e.Target = []byte("/\"x\\\n\xff")
	e.UserAgent = []byte("a\" 200 0 \"evil")
	l := line(Combined, &e)
	assert.Contains(t, l, `"GET /\x22x\x5C\x0A\xFF HTTP/1.1"`)
	assert.Contains(t, l, `"a\x22 200 0 \x22evil"`)
	assert.Equal(t, 1, strings.Count(l, "\n"))
	assert.Equal(t, 6, strings.Count(l, `"`), "only the format's own quotes")
}

func TestJSONParsesBack(t *testing.T) {
	e := entry()
	e.UserAgent = []byte("q\"\\\x01\xc3")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(line(JSON, &e)), &got))
	assert.Equal(t, map[string]any{
		"time": "2026-12-02T03:04:05.006+01:00", "remote_addr": "192.0.2.7", "request_method": "GET",
		"request_uri": "/a?b=c", "server_protocol": "HTTP/1.1", "status": 200.0, "body_bytes_sent": 13.0,
		"http_referer": "http://x/", "http_user_agent": "q\"\\\x01\u00c3", "request_time": 0.001,
	}, got)
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{Combined, JSON} {
		g, err := ParseFormat(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, g)
	}
	_, err := ParseFormat("common")
	assert.ErrorContains(t, err, "want combined or json")
}

// A long field is cut, so a line always fits the sink's buffer.
func TestLongFieldsAreBounded(t *testing.T) {
	e := entry()
	big := bytes.Repeat([]byte{0xff}, 64<<10)
	e.Target, e.Referer, e.UserAgent, e.Method = big, big, big, big
	for _, f := range []Format{Combined, JSON} {
		assert.LessOrEqual(t, len(line(f, &e)), maxLine)
	}
}

func TestSinkLogAllocatesNothing(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	l := New(lockedWriter{&mu, &out}, Combined, nil)
	defer l.Close()
	s := l.Sink()
	e := entry()
	n := testing.AllocsPerRun(1000, func() {
		e.Time = e.Time.Add(time.Millisecond)
		s.Log(&e)
	})
	assert.Zero(t, n)
}

// blockedWriter stands for a stuck disk: Write waits until release.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// A destination that does not keep up never blocks the worker: lines are
// dropped and counted, memory stays at the two buffers, and every line is
// either written whole or counted as dropped.
func TestStuckDestinationDropsAndNeverBlocks(t *testing.T) {
	w := &blockedWriter{release: make(chan struct{})}
	l := New(w, Combined, nil)
	s := l.Sink()
	e := entry()
	const n = 60000 // ~100 bytes each: far more than two buffers (2 MiB)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			s.Log(&e)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Log blocked on a stuck destination")
	}
	assert.Greater(t, l.Dropped(), uint64(0))
	close(w.release)
	require.NoError(t, l.Close())
	lines := strings.Count(w.buf.String(), "\n")
	assert.Equal(t, n, lines+int(l.Dropped()), "written + dropped")
	for _, ln := range strings.SplitAfter(w.buf.String(), "\n") {
		if ln != "" {
			require.Equal(t, line(Combined, &e), ln)
		}
	}
}

// logrotate: rename the file, Reopen, and the next lines go to a new file
// of the old name; what was logged before is in the renamed one.
func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := Open(path, Combined, nil)
	require.NoError(t, err)
	s := l.Sink()
	e := entry()
	s.Log(&e)
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, l.Reopen()) // writes the first line out first, to the renamed file
	e.Status = 404
	s.Log(&e)
	require.NoError(t, l.Close())
	old, err := os.ReadFile(path + ".1")
	require.NoError(t, err)
	assert.Equal(t, line(Combined, &entry0), string(old))
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(cur), `" 404 13 `)
	assert.Equal(t, 1, countLines(cur))

	// A path that cannot be opened keeps the old file.
	l, err = Open(path, Combined, nil)
	require.NoError(t, err)
	require.NoError(t, os.Rename(dir, dir+".gone"))
	t.Cleanup(func() { os.Rename(dir+".gone", dir) })
	assert.Error(t, l.Reopen())
	l.Sink().Log(&e)
	require.NoError(t, l.Close())
	cur, err = os.ReadFile(filepath.Join(dir+".gone", "access.log"))
	require.NoError(t, err)
	assert.Equal(t, 2, countLines(cur))
}

var entry0 = entry()

func countLines(b []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		n++
	}
	return n
}

// Lines written within flushEvery of each other reach the file without a
// Close (a quiet server's lines are not held).
func TestQuietLinesAreWrittenSoon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	l, err := Open(path, JSON, nil)
	require.NoError(t, err)
	defer l.Close()
	e := entry()
	l.Sink().Log(&e)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(path)
		return countLines(b) == 1
	}, 5*time.Second, 10*time.Millisecond)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func BenchmarkSinkLog(b *testing.B) {
	for _, f := range []Format{Combined, JSON} {
		b.Run(f.String(), func(b *testing.B) {
			// Lines the writer cannot keep up with are dropped (fast): the
			// figure is Log's cost with the writer busy, as under load.
			l := New(discard{}, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
			defer l.Close()
			s := l.Sink()
			e := entry()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Log(&e)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

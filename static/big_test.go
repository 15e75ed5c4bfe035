package static_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/static"
)

// randomFile writes size pseudo-random bytes (seeded: reproducible) to
// dir/name and returns them.
func randomFile(t *testing.T, dir, name string, size int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	return b
}

// getHash downloads url (with an optional Range) and returns status and
// the SHA-256 of the body, streaming it (never holding 100 MiB twice).
func getHash(c *http.Client, url, rng string) (int, [32]byte, int64, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, [32]byte{}, 0, err
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, [32]byte{}, 0, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return resp.StatusCode, sum, n, err
}

func Test100MiBWholeAndRanges(t *testing.T) {
	dir := t.TempDir()
	const size = 100 << 20
	data := randomFile(t, dir, "big.bin", size, 1)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ts := startServerOn(t, static.Config{Root: dir}, e.engine)
			test100MiB(t, ts, data)
		})
	}
}

func test100MiB(t *testing.T, ts *testServer, data []byte) {
	const size = 100 << 20
	c := newClient()

	status, sum, n, err := getHash(c, ts.base+"/big.bin", "")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Equal(t, int64(size), n)
	require.Equal(t, sha(data), sum, "whole file")

	// Four quarters in parallel, then odd ranges: each must be exact.
	type rg struct {
		spec   string
		lo, hi int
	}
	q := size / 4
	ranges := []rg{
		{fmt.Sprintf("bytes=0-%d", q-1), 0, q - 1},
		{fmt.Sprintf("bytes=%d-%d", q, 2*q-1), q, 2*q - 1},
		{fmt.Sprintf("bytes=%d-%d", 2*q, 3*q-1), 2 * q, 3*q - 1},
		{fmt.Sprintf("bytes=%d-", 3*q), 3 * q, size - 1},
		{"bytes=-1", size - 1, size - 1},
		{"bytes=-65537", size - 65537, size - 1},
		{"bytes=12345-12345", 12345, 12345},
		{fmt.Sprintf("bytes=%d-%d", 65535, 65536+1<<20), 65535, 65536 + 1<<20},
	}
	var wg sync.WaitGroup
	for _, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, sum, n, err := getHash(c, ts.base+"/big.bin", r.spec)
			if !assert.NoError(t, err, r.spec) {
				return
			}
			assert.Equal(t, 206, status, r.spec)
			assert.Equal(t, int64(r.hi-r.lo+1), n, r.spec)
			assert.Equal(t, sha(data[r.lo:r.hi+1]), sum, r.spec)
		}()
	}
	wg.Wait()
}

// TestConcurrentDownloads: 200 clients at once, each on its own
// connection, download a streamed file (1 MiB, larger than the cache's
// MaxCachedFile) and a cached one; every body must be exact.
func TestConcurrentDownloads(t *testing.T) {
	dir := t.TempDir()
	big := randomFile(t, dir, "mid.bin", 1<<20, 2)
	small := randomFile(t, dir, "small.bin", 10<<10, 3)
	ts := startServer(t, static.Config{Root: dir})
	const clients = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableCompression: true}}
			defer c.CloseIdleConnections()
			<-start
			for _, f := range []struct {
				name string
				data []byte
			}{{"mid.bin", big}, {"small.bin", small}} {
				status, sum, _, err := getHash(c, ts.base+"/"+f.name, "")
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, 200, status, f.name)
				assert.Equal(t, sha(f.data), sum, f.name)
			}
		}()
	}
	close(start)
	wg.Wait()
}

// TestSlowClientBoundedMemory: a client that stops reading a 100 MiB
// download holds no more than the bounded output and the socket buffers:
// with sendfile (both engines) the server reads none of the file into its
// memory (it counts the bytes when the send ends), and through the buffer
// path it stops reading once those are full. The download then completes
// intact.
func TestSlowClientBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	const size = 100 << 20
	data := randomFile(t, dir, "big.bin", size, 4)
	ts := startServer(t, static.Config{Root: dir})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
	}}
	conn, err := d.Dial("tcp", ts.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)

	// Wait until the producer is blocked: the streamed count stops moving.
	last, still := int64(-1), 0
	for still < 50 {
		time.Sleep(10 * time.Millisecond)
		if cur := ts.h.Streamed(); cur == last {
			still++
		} else {
			last, still = cur, 0
		}
	}
	// Socket buffers (tcp_wmem max 4 MiB by default, our 64 KiB receive
	// buffer) plus MaxPendingOutput (1 MiB) plus a chunk: far below 100 MiB.
	assert.Less(t, last, int64(16<<20), "bytes read from the file while the client read nothing")

	require.NoError(t, conn.SetDeadline(time.Now().Add(60*time.Second)))
	resp, err := http.ReadResponse(newBufReader(conn), nil)
	require.NoError(t, err)
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	require.NoError(t, err)
	require.Equal(t, int64(size), n)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	assert.Equal(t, sha(data), sum)
	assert.Equal(t, int64(size), ts.h.Streamed(), "sent through the blocking pool")
}

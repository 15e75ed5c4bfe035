//go:build !race

package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// 200 concurrent downloads of a 100 MiB file whose clients read 2 MiB and
// then stop reading for a while: the server holds none of the file's pages
// (sendfile sends from the page cache; the producer waits in the kernel),
// so its resident set grows by the goroutines and connection state only,
// not by 200 output buffers of file bytes. One more client downloads the
// whole file and checks it. The server is the binary (run() in a child
// process), so the RSS is the server's alone.
//
//	go test -count=1 -run TestStaticDownloadsRSS -v ./cmd/uringd/
func TestStaticDownloadsRSS(t *testing.T) {
	if os.Getenv("URINGD_DL_CHILD") != "" {
		os.Exit(run(strings.Fields(os.Getenv("URINGD_DL_CHILD")), os.Stderr))
	}
	if testing.Short() {
		t.Skip("200 connections to a 100 MiB file")
	}
	const (
		clients = 200
		size    = 100 << 20
		head    = 2 << 20 // read by each client before it stalls
	)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	require.NoError(t, err)
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 7)
	}
	want := sha256.New()
	for i := 0; i < size/len(block); i++ {
		block[0] = byte(i)
		_, err := f.Write(block)
		require.NoError(t, err)
		want.Write(block)
	}
	require.NoError(t, f.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestStaticDownloadsRSS$")
	cmd.Env = append(os.Environ(), "URINGD_DL_CHILD=-addr 127.0.0.1:0 -engine auto -root "+dir)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	addr := readAddr(t, stderr)
	pid := cmd.Process.Pid
	get := func() (*http.Response, net.Conn) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		_, err = io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		return resp, c
	}
	resp, c := get() // warm up: the pool, the page cache
	io.Copy(io.Discard, resp.Body)
	c.Close()
	time.Sleep(200 * time.Millisecond)
	before := childRSSKiB(t, pid)

	var wg sync.WaitGroup
	conns := make(chan net.Conn, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, c := get()
			_, err := io.CopyN(io.Discard, resp.Body, head)
			assert.NoError(t, err)
			conns <- c // stalled: read no more
		}()
	}
	wg.Wait()
	close(conns)
	time.Sleep(500 * time.Millisecond) // the senders fill the stalled sockets and wait
	var peak int64
	for i := 0; i < 10; i++ {
		peak = max(peak, childRSSKiB(t, pid))
		time.Sleep(50 * time.Millisecond)
	}
	// Meanwhile a whole download still works, and arrives intact.
	resp, c = get()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	c.Close()
	require.NoError(t, err)
	assert.Equal(t, int64(size), n)
	assert.Equal(t, fmt.Sprintf("%x", want.Sum(nil)), fmt.Sprintf("%x", h.Sum(nil)))
	for c := range conns {
		c.Close()
	}
	grew := (peak - before) >> 10
	t.Logf("server RSS: %d MiB before, %d MiB with %d stalled downloads of %d MiB: grew by %d MiB",
		before>>10, peak>>10, clients, size>>20, grew)
	assert.Less(t, grew, int64(40), "the server's RSS grew by %d MiB", grew)
}

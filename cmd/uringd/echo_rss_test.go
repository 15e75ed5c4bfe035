//go:build !race

// Not under the race detector: its shadow memory multiplies the RSS
// measured (181 MiB of growth for the same run).

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Slow readers of /echo: 50 clients each POST 8 MiB and read the echo at
// 400 KiB/s (the first 2 MiB; then the rest as fast as it comes, to keep
// the test short: the peak is reached well before). /echo streams (it
// reads the body as it arrives and writes as the client drains), so the
// server holds a window per client, not the bodies: its resident set grows
// by less than 100 MiB. With the whole-body /echo of before it grew by
// about 406 MiB. The server is the binary's run() in a child process (this
// test binary re-executed), so the RSS measured is the server's alone; the
// clients are here.
//
// The server runs with the binary's defaults (-addr only picks a free
// port). What a slow reader costs is its output buffer (MaxPendingOutput,
// 1 MiB by default, all in use while the client lags) and its body window
// (256 KiB, Go heap): about 63 MiB for 50. The rest is the handler's
// copy buffers, posts in transit and the pools' spares: measured 83-98 MiB
// in all, the more the busier the machine (the worker drains later). Before, each output buffer doubled
// to 2 MiB with old copies pinned by slow sends, and bytes received past
// a full body window swelled it into Go heap garbage: 126-129 MiB.
//
//	go test -count=1 -run TestEchoSlowReadersRSS -v ./cmd/uringd/
func TestEchoSlowReadersRSS(t *testing.T) {
	if os.Getenv("URINGD_ECHO_CHILD") != "" {
		os.Exit(run(strings.Fields(os.Getenv("URINGD_ECHO_CHILD")), os.Stderr))
	}
	if testing.Short() {
		t.Skip("moves 800 MiB through the server")
	}
	const (
		clients  = 50
		size     = 8 << 20
		slowPart = 2 << 20 // read at slowRate first; then the rest as fast as it comes
		slowRate = 400 << 10
	)
	cmd := exec.Command(os.Args[0], "-test.run=^TestEchoSlowReadersRSS$")
	cmd.Env = append(os.Environ(), "URINGD_ECHO_CHILD=-addr 127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	addr := readAddr(t, stderr)
	pid := cmd.Process.Pid

	// Warm up (first buffers, goroutines), then take the baseline.
	for i := 0; i < 3; i++ {
		resp, err := http.Post("http://"+addr+"/echo", "application/octet-stream", bytes.NewReader(make([]byte, 1<<20)))
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	time.Sleep(200 * time.Millisecond)
	before := childRSSKiB(t, pid)

	var peak int64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				peak = max(peak, childRSSKiB(t, pid))
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- slowEchoClient(addr, size, slowPart, slowRate)
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	grew := (peak - before) >> 10
	t.Logf("server RSS: %d MiB before, peak %d MiB: grew by %d MiB for %d slow readers of %d MiB echoes",
		before>>10, peak>>10, grew, clients, size>>20)
	assert.Less(t, grew, int64(100), "the server's RSS grew by %d MiB", grew)
}

// slowEchoClient POSTs size pattern bytes to /echo while it reads the
// answer, the first slowPart of it at rate bytes/s, and checks the echo.
func slowEchoClient(addr string, size, slowPart, rate int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Minute))
	go func() {
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", size)
		buf := make([]byte, 64<<10)
		for off := 0; off < size; off += len(buf) {
			for i := range buf {
				buf[i] = pattern(off + i)
			}
			if _, err := c.Write(buf[:min(len(buf), size-off)]); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 16<<10)
	start := time.Now()
	got := 0
	for {
		n, err := resp.Body.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != pattern(got+i) {
				return fmt.Errorf("echo differs at byte %d", got+i)
			}
		}
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
		if got < slowPart { // hold the pace: got bytes take got/rate seconds
			if d := time.Duration(float64(got)/float64(rate)*float64(time.Second)) - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
	}
	if got != size {
		return fmt.Errorf("echo of %d bytes, want %d", got, size)
	}
	return nil
}

func pattern(i int) byte { return byte(i*7 + i>>13) }

// readAddr reads the child's stderr until its startup line, and keeps
// draining it in the background.
func readAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	br := bufio.NewReader(r)
	re := regexp.MustCompile(`msg="uringd serving" addr=(\S+)`)
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "the server exited before listening")
		if m := re.FindStringSubmatch(line); m != nil {
			go io.Copy(io.Discard, br)
			return m[1]
		}
	}
}

// childRSSKiB is process pid's resident set (VmRSS).
func childRSSKiB(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("VmRSS:"))
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+6:]))
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

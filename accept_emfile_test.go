package uringd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"golang.org/x/sys/unix"
)

// Out of file descriptors at accept (EMFILE): the worker stops accepting,
// logs once, retries at the next tick — no busy loop — and serves the
// waiting clients as descriptors free up. The server runs in a child process
// (this test binary re-executed) whose RLIMIT_NOFILE leaves room for only
// three connections.
func TestAcceptEMFILEBacksOffThenServes(t *testing.T) {
	if os.Getenv("URINGD_EMFILE_CHILD") != "" {
		emfileChild()
		return
	}
	uringd.ForEachMode(t, func(t *testing.T, m uringd.TestMode) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptEMFILEBacksOffThenServes$")
		cmd.Env = append(os.Environ(), "URINGD_EMFILE_CHILD="+m.Name)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr syncBuilder // written by the child's stderr copier while the test reads it
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		defer cmd.Process.Kill()
		out := bufio.NewReader(stdout)
		addr, err := out.ReadString('\n')
		require.NoError(t, err, stderr.String())

		const n = 10
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i], err = net.Dial("tcp", strings.TrimSpace(addr))
			require.NoError(t, err)
			defer conns[i].Close()
			io.WriteString(conns[i], helloReq)
		}
		time.Sleep(300 * time.Millisecond) // ~30 ticks with most clients waiting
		io.WriteString(stdin, "stats\n")
		var st uringd.WorkerStats
		line, err := out.ReadString('\n')
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal([]byte(line), &st))
		assert.NotZero(t, st.AcceptErrors, "accept hit EMFILE")
		assert.Less(t, st.Loops, uint64(2000), "no busy loop while out of descriptors")

		for i, c := range conns { // each close frees a descriptor for the next
			c.SetDeadline(time.Now().Add(10 * time.Second))
			resp, err := readHellos(c, 1)
			require.NoError(t, err, "client %d", i)
			require.Equal(t, len("Hello, World!"), resp)
			c.Close()
		}
		stdin.Close()
		require.NoError(t, cmd.Wait(), stderr.String())
		assert.Equal(t, 1, strings.Count(stderr.String(), "accept failing"), stderr.String())
	})
}

// syncBuilder is a strings.Builder safe for one writer and readers.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// emfileChild serves until stdin closes, with descriptors for 2 connections.
// The limit is set before Start because the kernel captures RLIMIT_NOFILE
// when an accept SQE is prepared (a multishot accept keeps that value); then
// every free descriptor number but two is filled with dup'd placeholders.
func emfileChild() {
	var m uringd.TestMode
	for _, x := range uringd.TestModes {
		if x.Name == os.Getenv("URINGD_EMFILE_CHILD") {
			m = x
		}
	}
	maxFD := 0
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		var fd int
		fmt.Sscan(e.Name(), &fd)
		maxFD = max(maxFD, fd)
	}
	lim := unix.Rlimit{Cur: uint64(maxFD + 32), Max: uint64(maxFD + 32)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		panic(err)
	}
	cfg := testConfig(m)
	cfg.Workers = 1
	s, err := uringd.New(cfg)
	if err != nil {
		panic(err)
	}
	testRoutes(s)
	if err := s.Start(); err != nil {
		panic(err)
	}
	var dups []int
	for {
		fd, err := unix.Dup(0)
		if err != nil {
			break
		}
		dups = append(dups, fd)
	}
	unix.Close(dups[len(dups)-1])
	unix.Close(dups[len(dups)-2])
	fmt.Println(s.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		b, _ := json.Marshal(s.Stats().Total)
		fmt.Println(string(b))
	}
	for _, fd := range dups[:len(dups)-2] {
		unix.Close(fd) // the runtime needs one for its timers (epoll)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	os.Exit(0)
}

//go:build !race

package uringd_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"golang.org/x/sys/unix"
)

// An idle keep-alive connection costs the server its small conn struct: its
// buffers went back to the pool after the response. Measured as the growth
// of the process's RSS over 2000 connections that each made one request
// (the client side is raw sockets, kernel memory, not RSS).
func TestIdleKeepAliveConnectionsCostUnder2KiBEach(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		if cfg.Engine != 0 {
			t.Skip("io_uring engine only")
		}
		const n = 2000
		var lim unix.Rlimit
		require.NoError(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &lim))
		if lim.Cur < 2*n+100 {
			t.Skipf("RLIMIT_NOFILE %d too low for %d connections", lim.Cur, n)
		}
		cfg.Workers = 1
		cfg.IdleTimeout = time.Minute
		s := startServer(t, cfg)
		addr := s.Addr().(*net.TCPAddr)
		warm := openIdle(t, addr, 100) // warm the pools and tables
		_ = warm
		before := rssBytes(t)
		openIdle(t, addr, n)
		require.Eventually(t, func() bool { return s.Stats().Total.Open == n+100 }, 10*time.Second, 10*time.Millisecond)
		per := (rssBytes(t) - before) / n
		t.Logf("RSS growth per idle keep-alive connection: %d bytes", per)
		assert.Less(t, per, 2048)
	})
}

// openIdle opens n connections, makes one request on each, reads the
// response, and leaves them open.
func openIdle(t *testing.T, addr *net.TCPAddr, n int) []int {
	fds := make([]int, 0, n)
	buf := make([]byte, 4096)
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	for i := 0; i < n; i++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		t.Cleanup(func() { unix.Close(fd) })
		require.NoError(t, unix.Connect(fd, sa))
		_, err = unix.Write(fd, []byte(helloReq))
		require.NoError(t, err)
		got := 0
		for !strings.HasSuffix(string(buf[:got]), "Hello, World!") {
			m, err := unix.Read(fd, buf[got:])
			require.NoError(t, err)
			require.Positive(t, m)
			got += m
		}
		fds = append(fds, fd)
	}
	return fds
}

func rssBytes(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	pages, err := strconv.Atoi(strings.Fields(string(b))[1])
	require.NoError(t, err)
	return pages * os.Getpagesize()
}

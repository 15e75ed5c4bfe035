//go:build !race

package uringd_test

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"golang.org/x/sys/unix"
)

// TestZeroAllocsPerRequest counts every heap allocation in the process
// (runtime.MemStats.Mallocs) over 10,000 keep-alive requests to a warmed
// server. The client uses raw unix.Write/unix.Read on preallocated buffers,
// so it allocates nothing itself: all counted mallocs are the server's.
func TestZeroAllocsPerRequest(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DebugPoisonBuffers = false
		s := startServer(t, cfg)
		reqs := []struct{ name, req, body string }{
			{"GET_hello", helloReq, "Hello, World!"},
			{"POST_echo", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef", "0123456789abcdef"},
			{"GET_404", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "404 page not found\n"},
			{"pipelined_8", string(bytes.Repeat([]byte(helloReq), 8)), "Hello, World!"},
		}
		for _, rq := range reqs {
			t.Run(rq.name, func(t *testing.T) {
				c := newRawSyscallClient(t, s.Addr().(*net.TCPAddr), rq.req, rq.body)
				requireNoMallocsPerRoundTrip(t, rq.name, func() { c.roundTrip(t) })
			})
		}
	})
}

// requireNoMallocsPerRoundTrip warms up with 1,000 round trips (pools,
// buffers, the date cache), then counts every malloc in the process over
// 10,000 more. The only mallocs seen there are the runtime's own when it
// starts an OS thread (runtime.newm via handoffp/sysmon retake: a worker
// blocked in io_uring_enter gives its P away). That is a fixed cost, not per
// request, so a small slack is allowed; a single allocation per request
// would show as >= 10,000. The client must allocate nothing itself.
func requireNoMallocsPerRoundTrip(t *testing.T, name string, roundTrip func()) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		roundTrip()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 10000
	for i := 0; i < n; i++ {
		roundTrip()
	}
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	t.Logf("%d mallocs over %d round trips (%s)", mallocs, n, name)
	require.LessOrEqual(t, mallocs, uint64(runtimeThreadSlack), "server allocations per request must be 0")
}

// runtimeThreadSlack bounds the mallocs of runtime thread creation during
// one measurement (see requireNoMallocsPerRoundTrip); observed: 0 to 7 on a
// quiet machine, 17 once at a load average of 10 (more threads started as
// Ps were handed off). One allocation per request would be 10,000.
const runtimeThreadSlack = 64

// rawSyscallClient does blocking unix.Write/unix.Read on a socket with
// preallocated buffers: no allocation per round trip.
type rawSyscallClient struct {
	fd      int
	req     []byte
	buf     []byte
	suffix  []byte
	count   int // responses per round trip (pipelined requests)
	failed  bool
	lastErr error
}

func newRawSyscallClient(t testing.TB, addr *net.TCPAddr, req, body string) *rawSyscallClient {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	require.NoError(t, unix.Connect(fd, sa))
	return &rawSyscallClient{
		fd: fd, req: []byte(req), buf: make([]byte, 64<<10),
		suffix: []byte("\r\n\r\n" + body),
		count:  bytes.Count([]byte(req), []byte("HTTP/1.1\r\n")),
	}
}

// roundTrip writes the request(s) and reads until the last response's body.
func (c *rawSyscallClient) roundTrip(t testing.TB) {
	if _, err := unix.Write(c.fd, c.req); err != nil {
		t.Fatalf("write: %v", err)
	}
	n := 0
	for {
		m, err := unix.Read(c.fd, c.buf[n:])
		if err != nil || m <= 0 {
			t.Fatalf("read: %d, %v", m, err)
		}
		n += m
		if bytes.HasSuffix(c.buf[:n], c.suffix) && bytes.Count(c.buf[:n], c.suffix) == c.count {
			return
		}
	}
}

// BenchmarkKeepAliveRoundTrip measures one request/response on a warm
// keep-alive connection (client and server in this process: the numbers
// include the client's syscalls). Allocations are the server's.
func BenchmarkKeepAliveRoundTrip(b *testing.B) {
	for _, m := range uringd.TestModes[:2] { // the io_uring fast and 5.10 paths
		b.Run(m.Name, func(b *testing.B) {
			uringd.SkipWithoutIOUring(b, m.Engine)
			cfg := testConfig(m)
			cfg.DebugPoisonBuffers = false
			s, err := uringd.New(cfg)
			require.NoError(b, err)
			testRoutes(s)
			require.NoError(b, s.Start())
			defer s.Shutdown(context.Background())
			c := newRawSyscallClient(b, s.Addr().(*net.TCPAddr), helloReq, "Hello, World!")
			for i := 0; i < 100; i++ {
				c.roundTrip(b)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.roundTrip(b)
			}
		})
	}
}

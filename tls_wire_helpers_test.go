package uringd_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// wireConn is the socket under a TLS client, seen from the test: it counts
// the bytes written to the socket (the ciphertext the io_uring engine's
// BytesIn counts), and while holding it keeps what crypto/tls writes
// instead of sending it, so that a test can send a record in pieces.
type wireConn struct {
	net.Conn
	mu      sync.Mutex
	written uint64
	holding bool
	held    []byte
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.holding {
		w.held = append(w.held, p...)
		w.mu.Unlock()
		return len(p), nil
	}
	w.mu.Unlock()
	n, err := w.Conn.Write(p)
	w.mu.Lock()
	w.written += uint64(n)
	w.mu.Unlock()
	return n, err
}

// Written is how many bytes went to the socket so far.
func (w *wireConn) Written() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// hold makes later writes wait in held (sendHeld sends them).
func (w *wireConn) hold() {
	w.mu.Lock()
	w.holding = true
	w.mu.Unlock()
}

// takeHeld stops holding and returns what was held.
func (w *wireConn) takeHeld() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.held
	w.held, w.holding = nil, false
	return b
}

// sendRaw writes b to the socket as it is (a piece of a record).
func (w *wireConn) sendRaw(t *testing.T, b []byte) {
	t.Helper()
	_, err := w.Write(b)
	require.NoError(t, err)
}

// dialTLSWire is dialTLS with the client's socket wrapped in a wireConn;
// the handshake is done when it returns.
func dialTLSWire(t *testing.T, s *uringd.Server, cfg *tls.Config) (*tls.Conn, *wireConn) {
	t.Helper()
	if cfg == nil {
		cfg = tlsClientConfig()
	}
	nc, err := net.DialTimeout("tcp", s.Addr().String(), 10*time.Second)
	require.NoError(t, err)
	w := &wireConn{Conn: nc}
	c := tls.Client(w, cfg)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Handshake())
	return c, w
}

// waitBytesIn waits until s has received want more bytes than before:
// ciphertext on io_uring (its workers count what recv brings), plaintext
// on netpoll (its connections count what crypto/tls returns).
func waitBytesIn(t *testing.T, s *uringd.Server, before, wire, plain uint64) {
	t.Helper()
	want := before + plain
	if s.Engine() == uringd.EngineIOUring {
		want = before + wire
	}
	require.Eventually(t, func() bool { return s.Stats().Total.BytesIn >= want },
		10*time.Second, time.Millisecond, "the server did not receive all %d bytes", want-before)
}

// waitReadByServer waits until the server has read all that was written to
// c, its client socket: nothing unacknowledged at c (SIOCOUTQ), nothing in
// the server side's receive queue (/proc/net/tcp). What crypto/tls read of
// a record shows in no counter.
func waitReadByServer(t *testing.T, c net.Conn) {
	t.Helper()
	tc := c.(*net.TCPConn)
	client, server := tc.LocalAddr().(*net.TCPAddr).Port, tc.RemoteAddr().(*net.TCPAddr).Port
	rc, err := tc.SyscallConn()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		outq := -1
		rc.Control(func(fd uintptr) { outq, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		return outq == 0 && rxQueue(t, server, client) == 0
	}, 10*time.Second, time.Millisecond, "the server did not read what the client sent")
}

// rxQueue is the receive queue of the socket with local port local and
// remote port remote, from /proc/net/tcp{,6}; -1 if none is found.
func rxQueue(t *testing.T, local, remote int) int {
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 5 || !strings.HasSuffix(fs[1], fmt.Sprintf(":%04X", local)) ||
				!strings.HasSuffix(fs[2], fmt.Sprintf(":%04X", remote)) {
				continue
			}
			_, rx, _ := strings.Cut(fs[4], ":")
			n, err := strconv.ParseUint(rx, 16, 64)
			require.NoError(t, err)
			return int(n)
		}
	}
	return -1
}

// waitAcked waits until the server's kernel has acknowledged all that was
// written to c (SIOCOUTQ 0): the bytes are in its socket, whoever holds
// them there.
func waitAcked(t *testing.T, c net.Conn) {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		outq := -1
		rc.Control(func(fd uintptr) { outq, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		return outq == 0
	}, 10*time.Second, time.Millisecond, "the server did not acknowledge what the client sent")
}

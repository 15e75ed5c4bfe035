package proxyproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests put HAProxy (Debian's haproxy package) between a Go client and
// a raw TCP listener that parses, with this package, what HAProxy sends
// first. The listener reads in 7-byte pieces, so the header arrives split
// across reads and Parse's ErrIncomplete path runs against a real sender.

// arrival is what the backend saw on one connection.
type arrival struct {
	h           Header
	err         error
	peer, local netip.AddrPort // the TCP connection's own addresses (HAProxy -> backend)
	raw         []byte         // the header as received
	rest        []byte         // bytes after the header: the client's line
}

// startBackend listens on 127.0.0.1 and reports each connection's header on
// relayed (connections whose header names a client) or checks (the rest).
func startBackend(t *testing.T) (addr netip.AddrPort, relayed, checks chan arrival) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	relayed, checks = make(chan arrival, 16), make(chan arrival, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveBackendConn(c, relayed, checks)
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort(), relayed, checks
}

func serveBackendConn(c net.Conn, relayed, checks chan arrival) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	a := arrival{
		peer:  c.RemoteAddr().(*net.TCPAddr).AddrPort(),
		local: c.LocalAddr().(*net.TCPAddr).AddrPort(),
	}
	var buf []byte
	piece := make([]byte, 7)
	n := 0
	for {
		m, err := c.Read(piece)
		buf = append(buf, piece[:m]...)
		a.h, n, a.err = Parse(buf)
		if a.err != ErrIncomplete {
			break
		}
		if err != nil {
			a.err = fmt.Errorf("connection ended inside the header (%q): %w", buf, err)
			break
		}
	}
	a.raw = buf[:n]
	if a.err != nil || !a.h.HasAddrs() {
		select {
		case checks <- a:
		default:
		}
		return
	}
	// The client's line follows the header; answer it so the client knows
	// the whole path worked.
	for !bytes.Contains(buf[n:], []byte("\n")) {
		m, err := c.Read(piece)
		buf = append(buf, piece[:m]...)
		if err != nil {
			break
		}
	}
	a.rest = buf[n:]
	c.Write([]byte("pong\n"))
	relayed <- a
}

type haproxy struct {
	frontend netip.AddrPort
	exited   chan struct{}
	log      string // path of its stdout+stderr
}

// startHAProxy runs haproxy in the foreground with a generated mode-tcp
// config: one frontend on a free port of feIP, one server at backend with
// serverOpts (send-proxy, send-proxy-v2, ...). extraFrontend lines go in the
// frontend section.
func startHAProxy(t *testing.T, feIP netip.Addr, backend netip.AddrPort, serverOpts, extraFrontend string) *haproxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed: apt-get install -y haproxy (Debian bookworm package; CI needs it for this test)")
	}
	dir := t.TempDir()
	// The free port is found by binding and closing; if another process takes
	// it first, haproxy fails to bind and exits, and we try another.
	for attempt := 0; attempt < 5; attempt++ {
		l, err := net.Listen("tcp", netip.AddrPortFrom(feIP, 0).String())
		require.NoError(t, err, "loopback address %v", feIP)
		fe := l.Addr().(*net.TCPAddr).AddrPort()
		l.Close()
		cfg := fmt.Sprintf(`global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend fe
    bind %s
%s
    default_backend be
backend be
    server s1 %s %s
`, fe, extraFrontend, backend, serverOpts)
		cfgPath := filepath.Join(dir, "haproxy.cfg")
		require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
		logPath := filepath.Join(dir, fmt.Sprintf("haproxy-%d.log", attempt))
		logf, err := os.Create(logPath)
		require.NoError(t, err)
		cmd := exec.Command(bin, "-db", "-f", cfgPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		require.NoError(t, cmd.Start())
		hp := &haproxy{frontend: fe, exited: make(chan struct{}), log: logPath}
		go func() { cmd.Wait(); logf.Close(); close(hp.exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-hp.exited
			if t.Failed() {
				out, _ := os.ReadFile(logPath)
				t.Logf("haproxy config:\n%s\nhaproxy output:\n%s", cfg, out)
			}
		})
		if hp.waitListening(t) {
			return hp
		}
		out, _ := os.ReadFile(logPath)
		t.Logf("haproxy attempt %d exited: %s", attempt, out)
	}
	t.Fatal("haproxy did not start")
	return nil
}

// waitListening waits until the frontend accepts connections, by asking the
// kernel (a test connection would reach the backend), or haproxy exits.
func (hp *haproxy) waitListening(t *testing.T) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-hp.exited:
			return false
		default:
		}
		if listening(t, hp.frontend) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy not listening on %v after 10 s", hp.frontend)
	return false
}

// listening reports whether some socket listens on addr, from /proc/net/tcp{,6}.
func listening(t *testing.T, addr netip.AddrPort) bool {
	file, hexAddr := "/proc/net/tcp", ""
	if addr.Addr().Is4() {
		a := addr.Addr().As4()
		hexAddr = fmt.Sprintf("%02X%02X%02X%02X", a[3], a[2], a[1], a[0])
	} else {
		file = "/proc/net/tcp6"
		a := addr.Addr().As16()
		for i := 0; i < 16; i += 4 {
			hexAddr += fmt.Sprintf("%02X%02X%02X%02X", a[i+3], a[i+2], a[i+1], a[i])
		}
	}
	want := fmt.Sprintf("%s:%04X", hexAddr, addr.Port())
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want && f[3] == "0A" { // 0A: TCP_LISTEN
			return true
		}
	}
	return false
}

// dialFrom connects to the frontend from a chosen local address.
func dialFrom(t *testing.T, local netip.Addr, to netip.AddrPort) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0)), Timeout: 5 * time.Second}
	c, err := d.DialContext(context.Background(), "tcp", to.String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func recv[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
	}
	var zero T
	return zero
}

// TestHAProxyHeaders: for each way HAProxy sends the header, the backend
// parses the client's own address as the source and HAProxy's frontend as
// the destination, while the TCP connection itself comes from HAProxy.
func TestHAProxyHeaders(t *testing.T) {
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		name, serverOpts, extraFrontend string
		frontend, client                netip.Addr
		version                         uint8
		family                          Family
		tlvs                            []byte // TLV types HAProxy must have sent
	}{
		{name: "v1 TCP4", serverOpts: "send-proxy",
			frontend: ip("127.0.0.2"), client: ip("127.0.0.3"), version: 1, family: FamilyInet},
		{name: "v2 TCP4", serverOpts: "send-proxy-v2",
			frontend: ip("127.0.0.2"), client: ip("127.0.0.3"), version: 2, family: FamilyInet},
		{name: "v2 TCP4 with CRC32C and unique-id TLVs", serverOpts: "send-proxy-v2 proxy-v2-options crc32c,unique-id",
			extraFrontend: "    unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid",
			frontend:      ip("127.0.0.4"), client: ip("127.0.0.5"), version: 2, family: FamilyInet,
			tlvs: []byte{tlvCRC32C, 0x05 /* PP2_TYPE_UNIQUE_ID */}},
		{name: "v1 TCP6", serverOpts: "send-proxy",
			frontend: ip("::1"), client: ip("::1"), version: 1, family: FamilyInet6},
		{name: "v2 TCP6", serverOpts: "send-proxy-v2",
			frontend: ip("::1"), client: ip("::1"), version: 2, family: FamilyInet6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.frontend.Is6() && !canListen(tc.frontend) {
				t.Skipf("no %v on this machine", tc.frontend)
			}
			backend, relayed, checks := startBackend(t)
			hp := startHAProxy(t, tc.frontend, backend, tc.serverOpts, tc.extraFrontend)
			c := dialFrom(t, tc.client, hp.frontend)
			_, err := c.Write([]byte("ping from the client\n"))
			require.NoError(t, err)

			var a arrival
			select {
			case a = <-relayed:
			case bad := <-checks:
				t.Fatalf("connection without a client address: header %+v, err %v", bad.h, bad.err)
			case <-time.After(10 * time.Second):
				t.Fatal("nothing reached the backend within 10 s")
			}
			require.NoError(t, a.err)
			clientAddr := c.LocalAddr().(*net.TCPAddr).AddrPort()
			require.Equal(t, clientAddr, a.h.Source, "source is the client's own address")
			require.Equal(t, hp.frontend, a.h.Dest, "destination is HAProxy's frontend")
			require.Equal(t, tc.version, a.h.Version)
			require.Equal(t, CommandProxy, a.h.Command)
			require.Equal(t, tc.family, a.h.Family)
			require.Equal(t, TransportStream, a.h.Transport)
			require.Equal(t, "ping from the client\n", string(a.rest), "the payload starts right after the header")
			require.Equal(t, backend, a.local)
			require.NotEqual(t, clientAddr, a.peer, "the TCP peer is HAProxy, so only the header tells the client")
			if tc.version == 1 {
				require.Equal(t, string(AppendV1(nil, a.h)), string(a.raw), "HAProxy writes the line as AppendV1 does")
			}
			require.Equal(t, tc.tlvs, tlvTypes(t, a.raw), "TLVs in %x", a.raw)

			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			reply := make([]byte, 5)
			_, err = readFull(c, reply)
			require.NoError(t, err)
			require.Equal(t, "pong\n", string(reply))
		})
	}
}

// TestHAProxyHealthChecks: HAProxy's health checks, which carry no client,
// parse as headers without addresses (v2 LOCAL), so the worker keeps the
// connection's own addresses; v1 checks name the check connection's own
// address pair.
func TestHAProxyHealthChecks(t *testing.T) {
	for _, tc := range []struct {
		name, serverOpts string
		version          uint8
	}{
		{"v2 LOCAL", "send-proxy-v2 check inter 100ms", 2},
		{"v1", "send-proxy check inter 100ms", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend, relayed, checks := startBackend(t)
			startHAProxy(t, netip.MustParseAddr("127.0.0.2"), backend, tc.serverOpts, "")
			var a arrival
			select {
			case a = <-checks:
			case a = <-relayed:
			case <-time.After(10 * time.Second):
				t.Fatal("no health check within 10 s")
			}
			require.NoError(t, a.err)
			require.Equal(t, tc.version, a.h.Version)
			if tc.version == 2 {
				require.Equal(t, CommandLocal, a.h.Command)
				require.False(t, a.h.HasAddrs())
				src, dst := a.h.Addrs(a.peer, a.local)
				require.Equal(t, a.peer, src, "LOCAL: the connection's own peer stands")
				require.Equal(t, a.local, dst)
				return
			}
			// v1 has no LOCAL: HAProxy does what the spec recommends and
			// names the check connection's own pair, which is the same as
			// no override.
			require.True(t, a.h.HasAddrs(), "header %q", a.raw)
			require.Equal(t, a.peer, a.h.Source, "header %q", a.raw)
			require.Equal(t, a.local, a.h.Dest, "header %q", a.raw)
		})
	}
}

// tlvTypes lists the types of the TLVs after a v2 INET/INET6 address block.
func tlvTypes(t *testing.T, raw []byte) []byte {
	if len(raw) < v2FixedLen || string(raw[:12]) != v2Sig {
		return nil
	}
	var types []byte
	for off := v2FixedLen + addrLen[raw[13]>>4]; off < len(raw); {
		require.GreaterOrEqual(t, len(raw)-off, tlvHdrLen)
		types = append(types, raw[off])
		off += tlvHdrLen + int(raw[off+1])<<8 + int(raw[off+2])
	}
	return types
}

func canListen(ip netip.Addr) bool {
	l, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			if errors.Is(err, syscall.ECONNRESET) && n == len(b) {
				break
			}
			return n, err
		}
	}
	return n, nil
}

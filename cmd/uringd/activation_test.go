package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// listenSocket is what a .socket unit makes: a listening TCP socket on
// loopback, with SO_REUSEPORT if reuse (ReusePort=yes).
func listenSocket(t *testing.T, reuse bool) (*os.File, string) {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if reuse {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f, ln.Addr().String()
}

// activated runs bin as systemd would with one socket: fd 3, LISTEN_FDS=1
// and LISTEN_PID the pid of uringd itself, which only the exec'd process
// knows: the shell sets it to its own pid ($$) and execs uringd, keeping
// the pid.
func activated(t *testing.T, bin string, sock *os.File, listenPID string, args ...string) *exec.Cmd {
	sh := `LISTEN_PID=$$ exec "$0" "$@"`
	if listenPID != "" {
		sh = `LISTEN_PID=` + listenPID + ` exec "$0" "$@"`
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", sh, bin}, args...)...)
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES=uringd.socket")
	cmd.ExtraFiles = []*os.File{sock}
	return cmd
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// The test plays systemd: it owns the socket (ReusePort=yes), starts
// uringd with it, stops it, and while no uringd runs a client connects and
// sends its request, which waits in the socket's queue; the next uringd
// answers it. -addr differs and is ignored, with a warning.
func TestSystemdSocketActivation(t *testing.T) {
	bin := buildUringd(t)
	sock, addr := listenSocket(t, true)

	fam := startFamily(t, activated(t, bin, sock, "", "-engine", "auto", "-addr", "127.0.0.1:1", "-workers", "2", "-grace", "5s"))
	got := fam.waitAddr(t)
	assert.Equal(t, addr, got)
	fam.waitLog(t, `msg="serving inherited listening sockets" from="systemd socket activation (LISTEN_FDS)" sockets=1 added_reuseport=1`)
	fam.waitLog(t, `msg="-addr ignored: serving the inherited sockets" addr_flag=127.0.0.1:1`)
	for i := 0; i < 20; i++ { // both workers' sockets answer
		assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	}
	require.NoError(t, fam.first.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, fam.first.Process.Pid))

	// No uringd: the socket (ours, as systemd's) queues the connection.
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")

	fam2 := startFamily(t, activated(t, bin, sock, "", "-engine", "auto", "-workers", "1"))
	fam2.waitAddr(t)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err, "the request sent while no uringd ran is answered by the next one")
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, helloBody, string(b))
	require.NoError(t, fam2.first.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, fam2.waitExit(t, fam2.first.Process.Pid))
}

// LISTEN_PID naming another process: the fds are not ours (sd_listen_fds
// returns 0), and uringd listens on -addr.
func TestSystemdSocketActivationOtherPID(t *testing.T) {
	bin := buildUringd(t)
	sock, addr := listenSocket(t, true)
	fam := startFamily(t, activated(t, bin, sock, "1", "-engine", "auto", "-addr", "127.0.0.1:0", "-workers", "1"))
	got := fam.waitAddr(t)
	assert.NotEqual(t, addr, got)
	assert.Equal(t, helloBody, getBody(t, "http://"+got+"/"))
	assert.NotContains(t, fam.String(), "inherited")
	require.NoError(t, fam.first.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, fam.first.Process.Pid))
}

// Without ReusePort=yes, two workers cannot share one socket: uringd
// refuses to start and says what to change.
func TestSystemdSocketWithoutReusePort(t *testing.T) {
	bin := buildUringd(t)
	sock, _ := listenSocket(t, false)
	out, err := activated(t, bin, sock, "", "-engine", "auto", "-workers", "2").CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, 1, err.(*exec.ExitError).ExitCode())
	assert.Contains(t, string(out), "ReusePort=yes")
	assert.Contains(t, string(out), "without SO_REUSEPORT")
	assert.Contains(t, string(out), "set -workers to 1", "the flag, not the Config field")
}

// systemd's own tool, where installed (package systemd): it sets
// LISTEN_FDS and LISTEN_PID itself, and execs uringd on the first
// connection, which waits in the socket's queue meanwhile and is answered.
// Its socket has no SO_REUSEPORT: one worker.
func TestSystemdSocketActivateTool(t *testing.T) {
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not installed (apt-get install systemd)")
	}
	bin := buildUringd(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // a free port for the tool (it binds it itself)
	fam := startFamily(t, exec.Command(tool, "-l", addr, bin, "-engine", "auto", "-workers", "1"))
	// The tool starts the service on the first connection, as systemd does.
	fam.waitLog(t, "Listening on "+addr)
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	assert.Equal(t, addr, fam.waitAddr(t))
	fam.waitLog(t, `from="systemd socket activation (LISTEN_FDS)" sockets=1`)
	require.NoError(t, fam.first.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, fam.first.Process.Pid))
}

// An upgrade that cannot happen leaves the old process serving, and says
// why: the new binary exits at once, is not executable, or never becomes
// ready (killed after -upgrade-timeout; a second SIGUSR2 meanwhile is
// ignored). Then the real binary is put back, and the upgrade succeeds.
func TestUpgradeFailuresKeepServing(t *testing.T) {
	built := buildUringd(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "uringd")
	real, err := os.ReadFile(built)
	require.NoError(t, err)
	install := func(content []byte, mode os.FileMode) {
		tmp := bin + ".new"
		require.NoError(t, os.WriteFile(tmp, content, mode))
		require.NoError(t, os.Rename(tmp, bin)) // as a package manager replaces it
	}
	install(real, 0o755)
	cmd := exec.Command(bin, "-engine", "auto", "-addr", "127.0.0.1:0", "-workers", "1", "-upgrade-timeout", "2s")
	fam := startFamily(t, cmd)
	addr := fam.waitAddr(t)
	pid := cmd.Process.Pid
	usr2 := func() { require.NoError(t, syscall.Kill(pid, syscall.SIGUSR2)) }

	install([]byte("#!/bin/sh\nexit 3\n"), 0o755)
	usr2()
	fam.waitLog(t, "exit status 3")
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))

	install([]byte("not a program"), 0o644)
	usr2()
	fam.waitLog(t, "permission denied")
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))

	install([]byte("#!/bin/sh\nexec sleep 60\n"), 0o755)
	usr2()
	// The third start, not the first two's lines: two SIGUSR2 sent before
	// the first was taken would be one signal.
	require.Eventually(t, func() bool {
		return countLines(fam.String(), `msg="upgrade: starting the new process (SIGUSR2)"`) == 3
	}, 20*time.Second, 5*time.Millisecond, "the third upgrade started")
	usr2()
	fam.waitLog(t, `msg="SIGUSR2 ignored: an upgrade is already in flight"`)
	fam.waitLog(t, "not serving after 2s; killed")
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	assert.Equal(t, 3, countLines(fam.String(), `msg="upgrade failed; this process keeps serving"`))

	install(real, 0o755)
	usr2()
	var next int
	select {
	case next = <-fam.newPD:
	case <-time.After(30 * time.Second):
		t.Fatalf("no upgrade:\n%s", fam)
	}
	assert.Equal(t, 0, fam.waitExit(t, pid))
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	require.NoError(t, syscall.Kill(next, syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, next))
	t.Logf("new pid %s", strconv.Itoa(next))
}

func countLines(log, sub string) int { return strings.Count(log, sub) }

// The test plays systemd's notification socket (Type=notify): uringd says
// READY=1 once it serves; in a SIGUSR2 upgrade the successor says
// MAINPID=<its pid> and READY=1 before its predecessor exits, so that
// systemd follows it instead of taking the old one's exit for the end of
// the service.
func TestSdNotifyReadyAndUpgradeMainPID(t *testing.T) {
	bin := buildUringd(t)
	path := filepath.Join(t.TempDir(), "notify")
	ns, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer ns.Close()
	msgs := make(chan string, 8)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ns.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func() string {
		select {
		case m := <-msgs:
			return m
		case <-time.After(30 * time.Second):
			t.Fatal("no notification")
		}
		return ""
	}
	cmd := exec.Command(bin, "-engine", "auto", "-addr", "127.0.0.1:0", "-workers", "1")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+path)
	fam := startFamily(t, cmd)
	addr := fam.waitAddr(t)
	assert.Equal(t, "READY=1", next())

	require.NoError(t, cmd.Process.Signal(syscall.SIGUSR2))
	var pid int
	select {
	case pid = <-fam.newPD:
	case <-time.After(30 * time.Second):
		t.Fatalf("no upgrade:\n%s", fam)
	}
	assert.Equal(t, fmt.Sprintf("MAINPID=%d\nREADY=1", pid), next())
	assert.Equal(t, 0, fam.waitExit(t, cmd.Process.Pid))
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, pid))
}

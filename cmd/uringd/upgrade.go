package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringd/uringd"
)

// The binary upgrade (SIGUSR2, as nginx's): the running uringd starts its
// successor, the executable re-read from disk with the same arguments, and
// hands it its listening sockets as ExtraFiles (fds 3 to 3+N-1), plus the
// write end of a pipe at fd 3+N. The successor serves those very sockets
// (not new SO_REUSEPORT siblings: their accept queues are shared, so a
// connection waiting in one is accepted by whichever process is still
// accepting, never reset), writes "ready" on the pipe once it serves, and
// only then does the old process stop accepting and drain. EOF on the pipe
// (the successor exited, or failed to exec) or no word within
// -upgrade-timeout means the upgrade failed: the old process keeps serving.
//
// The sockets are announced in URINGD_LISTEN_FDS rather than systemd's
// LISTEN_FDS because LISTEN_PID must name the process that reads them, and
// the successor's pid exists only after the fork, when os/exec can no
// longer set its environment (a shell wrapper could; a second exec is not
// worth it).
const (
	envUpgradeFDs   = "URINGD_LISTEN_FDS"
	envUpgradeReady = "URINGD_READY_FD"
)

// inherited is where the listening sockets came from, if not opened here.
type inherited struct {
	files []*os.File
	from  string // "systemd" or "upgrade"
	ready *os.File
}

// takeInherited reads the environment of an upgrade, else of systemd's
// socket activation, and unsets it, so that neither is handed down again.
func takeInherited() (inherited, error) {
	n, ok := os.LookupEnv(envUpgradeFDs)
	readyFD := os.Getenv(envUpgradeReady)
	os.Unsetenv(envUpgradeFDs)
	os.Unsetenv(envUpgradeReady)
	if ok {
		files, err := uringd.FileListeners(n, "")
		if err != nil {
			return inherited{}, fmt.Errorf("%s: %w", envUpgradeFDs, err)
		}
		in := inherited{files: files, from: "upgrade"}
		if fd, err := strconv.Atoi(readyFD); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
			in.ready = os.NewFile(uintptr(fd), "upgrade-ready")
		}
		// systemd's, if it was there, were the previous process's.
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDNAMES")
		return in, nil
	}
	files, err := uringd.SystemdListeners()
	if err != nil {
		return inherited{}, fmt.Errorf("LISTEN_FDS: %w", err)
	}
	return inherited{files: files, from: "systemd"}, nil
}

// logInherited says, once at startup, that the sockets were inherited, and
// what became of -addr: the sockets decide where uringd listens, so a
// different -addr is ignored with a warning rather than refused. Refusing
// would turn a unit file that says one port in the .socket and another in
// ExecStart into an outage, and an upgrade's successor gets the argv of
// its predecessor, whose -addr may say port 0.
func logInherited(log *slog.Logger, in inherited, srv *uringd.Server, addrFlag string, addrSet bool) {
	bound := srv.Addr().(*net.TCPAddr)
	src := "systemd socket activation (LISTEN_FDS)"
	if in.from == "upgrade" {
		src = "the previous process (SIGUSR2 upgrade)"
	}
	log.Info("serving inherited listening sockets", "from", src, "sockets", len(in.files),
		"added_reuseport", srv.Workers()-len(in.files), "addr", bound.String())
	if !addrSet {
		return
	}
	want, err := net.ResolveTCPAddr("tcp", addrFlag)
	if err != nil || (want.Port != 0 && want.Port != bound.Port) ||
		(want.IP != nil && !want.IP.IsUnspecified() && !want.IP.Equal(bound.IP)) {
		log.Warn("-addr ignored: serving the inherited sockets", "addr_flag", addrFlag, "addr", bound.String())
	}
}

// signalReady tells the predecessor that this process serves.
func (in inherited) signalReady() {
	if in.ready == nil {
		return
	}
	fmt.Fprintf(in.ready, "ready %d\n", os.Getpid())
	in.ready.Close()
}

// upgradeResult is how an upgrade ended: the successor's pid, or why not.
type upgradeResult struct {
	pid int
	err error
}

// upgrade starts the successor and waits until it serves, fails, or
// timeout passes (then it is killed). It does not stop this server.
func upgrade(srv *uringd.Server, timeout time.Duration) upgradeResult {
	exe, err := os.Executable() // re-read: a replaced binary is picked up
	if err != nil {
		return upgradeResult{err: fmt.Errorf("os.Executable: %w", err)}
	}
	files, err := srv.ListenerFiles()
	if err != nil {
		return upgradeResult{err: err}
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	pr, pw, err := os.Pipe()
	if err != nil {
		return upgradeResult{err: err}
	}
	defer pr.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = append(files, pw)
	cmd.Env = append(childEnv(os.Environ()),
		envUpgradeFDs+"="+strconv.Itoa(len(files)),
		envUpgradeReady+"="+strconv.Itoa(3+len(files)))
	err = cmd.Start()
	pw.Close() // the successor holds the only write end: EOF when it exits
	if err != nil {
		return upgradeResult{err: fmt.Errorf("starting %s: %w", exe, err)}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- s
	}()
	pid := cmd.Process.Pid
	select {
	case s := <-line:
		if strings.HasPrefix(s, "ready ") {
			return upgradeResult{pid: pid}
		}
		// EOF: it exited (or closed the pipe) without serving.
		select {
		case err := <-exited:
			return upgradeResult{pid: pid, err: fmt.Errorf("new process %d (%s) exited before it served: %v", pid, exe, err)}
		case <-time.After(timeout):
			cmd.Process.Kill()
			return upgradeResult{pid: pid, err: fmt.Errorf("new process %d (%s) closed the ready pipe without serving; killed", pid, exe)}
		}
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-exited
		return upgradeResult{pid: pid, err: fmt.Errorf("new process %d (%s) not serving after %v; killed", pid, exe, timeout)}
	}
}

// childEnv is env without what described this process's own inheritance.
func childEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case envUpgradeFDs, envUpgradeReady, "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
			continue
		}
		out = append(out, kv)
	}
	return out
}

var errNoNotify = errors.New("NOTIFY_SOCKET not set")

// sdNotify sends state to systemd's notification socket (sd_notify(3)),
// if the service manager gave one.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return errNoNotify
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

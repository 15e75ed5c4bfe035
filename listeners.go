package uringd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// listen opens (or takes from Config.Listeners) the engine's listeners, one
// per worker, and keeps a dup of each for ListenerFiles; s.mu is held. With
// Workers 0, every inherited socket gets a worker even past n (the CPUs):
// a socket nobody accepts on would strand its share of the connections.
func (s *Server) listen(n int) ([]int, *net.TCPAddr, error) {
	s.closeListenerFiles() // EngineAuto's second try
	if s.cfg.Workers == 0 && len(s.cfg.Listeners) > n {
		n = len(s.cfg.Listeners)
	}
	fds, addr, err := engine.Listeners(s.cfg.Addr, s.cfg.Listeners, n, listenBacklog)
	if err != nil {
		return nil, nil, err
	}
	files := make([]*os.File, 0, len(fds))
	for _, fd := range fds {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, nil, fmt.Errorf("uringd: dup listener: %w", err)
		}
		files = append(files, os.NewFile(uintptr(d), "uringd-listener-"+addr.String()))
	}
	s.lfiles = files
	return fds, addr, nil
}

// closeListenerFiles drops the server's own dups of its listeners; s.mu is
// held. Shutdown does it first, so that the workers' close is the last one
// and new clients are refused (unless another process holds the sockets).
func (s *Server) closeListenerFiles() {
	for _, f := range s.lfiles {
		f.Close()
	}
	s.lfiles = nil
}

// ListenerFiles returns dups of the listening sockets, one per worker in
// worker order, for a process that is to take over serving them (passed
// as exec.Cmd.ExtraFiles, served there with Config.Listeners): the binary
// upgrade of cmd/uringd. Both processes then accept from the same sockets,
// so the connections waiting in their accept queues survive this
// server's Shutdown, which closes only its own descriptors. The caller
// closes the files. It fails before Start and once Shutdown has begun.
func (s *Server) ListenerFiles() ([]*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.shutdown || s.lfiles == nil {
		return nil, errors.New("uringd: ListenerFiles: the server is not serving")
	}
	out := make([]*os.File, 0, len(s.lfiles))
	for _, f := range s.lfiles {
		rc, err := f.SyscallConn()
		var d int
		if err == nil {
			cerr := rc.Control(func(fd uintptr) { d, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
			if err == nil {
				err = cerr
			}
		}
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("uringd: ListenerFiles: %w", err)
		}
		out = append(out, os.NewFile(uintptr(d), f.Name()))
	}
	return out, nil
}

// The environment of systemd's socket activation (sd_listen_fds(3)).
const (
	envListenFDs     = "LISTEN_FDS"
	envListenPID     = "LISTEN_PID"
	envListenFDNames = "LISTEN_FDNAMES"
	listenFDsStart   = 3 // SD_LISTEN_FDS_START
)

// SystemdListeners returns the sockets systemd passed by socket activation,
// for Config.Listeners, with sd_listen_fds(3)'s semantics: LISTEN_FDS
// sockets from fd 3, only when LISTEN_PID is this process (else they were
// meant for another, and nil is returned); the variables are unset, so
// that a child process does not take them for its own, and the fds are
// made close-on-exec. nil, nil when there are none. Call it once, early.
func SystemdListeners() ([]*os.File, error) {
	nstr, ok := os.LookupEnv(envListenFDs)
	if !ok {
		return nil, nil
	}
	pid := os.Getenv(envListenPID)
	names := os.Getenv(envListenFDNames)
	os.Unsetenv(envListenFDs)
	os.Unsetenv(envListenPID)
	os.Unsetenv(envListenFDNames)
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil
	}
	return FileListeners(nstr, names)
}

// FileListeners wraps n (a decimal count) descriptors from fd 3 as files,
// close-on-exec, named by the colon-separated names (LISTEN_FDNAMES), if
// any. cmd/uringd's binary upgrade passes its sockets the same way.
func FileListeners(count, names string) ([]*os.File, error) {
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || n > 4096 {
		return nil, fmt.Errorf("uringd: inherited fd count %q is not a number in [0, 4096]", count)
	}
	var nm []string
	if names != "" {
		nm = splitColon(names)
	}
	files := make([]*os.File, 0, n)
	for i := 0; i < n; i++ {
		fd := listenFDsStart + i
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("uringd: inherited fd %d: %w", fd, err)
		}
		syscall.CloseOnExec(fd)
		name := "inherited-fd-" + strconv.Itoa(fd)
		if i < len(nm) && nm[i] != "" {
			name = nm[i]
		}
		files = append(files, os.NewFile(uintptr(fd), name))
	}
	return files, nil
}

func splitColon(s string) []string {
	var out []string
	for {
		i := 0
		for i < len(s) && s[i] != ':' {
			i++
		}
		out = append(out, s[:i])
		if i == len(s) {
			return out
		}
		s = s[i+1:]
	}
}

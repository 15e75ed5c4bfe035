package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100
// on every Linux ABI Go supports; Go has no sysconf to ask.
const clockTicks = 100

// cpuTime returns the CPU time (user + system) consumed so far by every thread
// of process pid, live or exited: /proc/PID/stat accounts the whole thread group.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm (field 2) may contain spaces; fields after its closing paren are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime in /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// treeCPU is cpuTime of pid and of its live children: nginx serves from a
// worker process under its master, and both are the server. (A child's
// exited time is never counted; no server here ends its children under load.)
func treeCPU(pid int) (time.Duration, error) {
	total, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid || parentOf(child) != pid {
			continue
		}
		if t, err := cpuTime(child); err == nil {
			total += t
		}
	}
	return total, nil
}

// parentOf returns the parent PID of pid, or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// machineBusy returns the CPU time all CPUs spent busy so far: user, nice,
// system, irq, softirq and steal from the "cpu" line of /proc/stat. irq and
// softirq count because tick-based accounting (kernels without
// CONFIG_IRQ_TIME_ACCOUNTING) also charges them to the
// interrupted task's stime, so the server's and wrk's own share is subtracted
// with their times; with IRQ time accounting the "other" figure would include
// the benchmark's own interrupt work and read high.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// memKiB returns the VmRSS (current) and VmHWM (peak) of pid, in KiB.
func memKiB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// serverProc is one running server under test.
type serverProc struct {
	cmd  *exec.Cmd
	port int
	log  string // file with the server's stdout and stderr
	done chan struct{}
}

// startServer launches spec on a free port with the given worker count,
// pinned to cpus when cpus is not empty (taskset execs the server, so the PID
// measured is the server's own), and waits until it accepts connections.
func startServer(spec *server, workers int, cpus, logPath string, ts *tlsSetup) (*serverProc, error) {
	// The free port is an ephemeral one, so on a shared machine another
	// process's connection can take it before the server binds it ("address
	// already in use"): a server that exits at once is started again on
	// another port.
	var err error
	for try := 0; try < 3; try++ {
		var p *serverProc
		if p, err = startServerOnce(spec, workers, cpus, logPath, ts); err == nil || !errors.Is(err, errExited) {
			return p, err
		}
	}
	return nil, err
}

// errExited is a server that exited before it accepted a connection.
var errExited = errors.New("exited")

func startServerOnce(spec *server, workers int, cpus, logPath string, ts *tlsSetup) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var args []string
	if ts != nil {
		if args, err = spec.tlsArgs(port, workers, *ts); err != nil {
			return nil, err
		}
	} else {
		args = spec.args(port, workers)
	}
	name := spec.bin
	if cpus != "" && haveTaskset() {
		args = append([]string{"-c", cpus, name}, args...)
		name = "taskset"
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "== %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), spec.env(port, workers)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{cmd: cmd, port: port, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	if err := p.waitReady(10 * time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not start: %w (log: %s)", spec.name, err, logPath)
	}
	return p, nil
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

func (p *serverProc) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", errExited, p.cmd.ProcessState)
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no listener on port %d after %v", p.port, limit)
}

// alive reports whether the server is still running (a crash under load must
// not be reported as a slow run).
func (p *serverProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop asks the server to exit and kills it if it has not after 3 s.
func (p *serverProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// freePort asks the kernel for an unused port. The listener is closed before
// the server binds it; the window is small and a clash fails loudly at start.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// raiseFileLimit lifts RLIMIT_NOFILE for the harness and so for every child
// (servers and wrk inherit it): the sweep opens 4000 connections and the idle
// scenario 10,000. As root the hard limit is raised too.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Max < want {
		try := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try) == nil {
			return want, nil
		}
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The binary's tests run it as a child process: this test binary
// re-executed, whose TestMain calls run() (what main does) with the
// arguments in URINGD_CHILD_ARGS, one a line. Signals, exit codes and a
// seccomp filter then act on the server alone, as they would on uringd.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("URINGD_CHILD_ARGS"); ok {
		if os.Getenv("URINGD_CHILD_NOURING") != "" {
			if err := forbidIOUringSetup(); err != nil {
				os.Stderr.WriteString("seccomp: " + err.Error() + "\n")
				os.Exit(3)
			}
		}
		os.Exit(run(strings.Split(args, "\n"), os.Stderr))
	}
	os.Exit(m.Run())
}

// server is a uringd child process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	log    lockedBuffer  // everything it wrote to stderr
	exited chan struct{} // closed once it has exited; then code is set
	code   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) write(p string) {
	l.mu.Lock()
	l.b.WriteString(p)
	l.mu.Unlock()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer runs uringd with args (nouring: under a seccomp filter that
// refuses io_uring_setup) and returns once it logged its startup line.
func startServer(t *testing.T, nouring bool, args ...string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "URINGD_CHILD_ARGS="+strings.Join(args, "\n"))
	if nouring {
		cmd.Env = append(cmd.Env, "URINGD_CHILD_NOURING=1")
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &server{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg="uringd serving" addr=(\S+)`)
		br := bufio.NewReader(stderr)
		for {
			line, err := br.ReadString('\n')
			s.log.write(line)
			if m := re.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			if err != nil {
				break
			}
		}
		cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		close(s.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
	})
	select {
	case s.addr = <-addr:
	case <-s.exited:
		t.Fatalf("uringd exited (%d) before serving:\n%s", s.code, s.log.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("uringd did not start:\n%s", s.log.String())
	}
	return s
}

func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
}

// wait returns the exit code, failing the test if uringd still runs after
// a generous timeout (a hang, not a measurement).
func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.exited:
		return s.code
	case <-time.After(20 * time.Second):
		t.Fatalf("uringd still runs:\n%s", s.log.String())
	}
	return -1
}

// waitLog waits until uringd has logged sub.
func (s *server) waitLog(t *testing.T, sub string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(s.log.String(), sub) },
		20*time.Second, 5*time.Millisecond, "no %q in:\n%s", sub, &s.log)
}

// runOut runs uringd with args that it should refuse before serving, and
// returns its exit code and what it wrote (killed if it serves instead).
func runOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "URINGD_CHILD_ARGS="+strings.Join(args, "\n"))
	out, _ := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "uringd %q served instead of refusing:\n%s", args, out)
	return cmd.ProcessState.ExitCode(), string(out)
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/uring"
	"golang.org/x/sys/unix"
)

const (
	helloBody = "Hello, World!"
	fibBody   = "Fibonacci(10^6) = 1884755131 (with overflow)\n"
)

// buildUringd builds the real binary into a temporary directory.
func buildUringd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "uringd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// procs follows a family of uringd processes that share one stderr: the
// first is started here, each successor is announced by its predecessor's
// log. The test is their subreaper, so that it can wait for the
// predecessors once they are orphaned.
type procs struct {
	mu    sync.Mutex
	log   bytes.Buffer
	addr  chan string
	newPD chan int
	first *exec.Cmd
	pids  []int // every successor announced, for the cleanup
}

var subreaper sync.Once

func startFamily(t *testing.T, cmd *exec.Cmd) *procs {
	t.Helper()
	subreaper.Do(func() { require.NoError(t, unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) })
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stderr, cmd.Stdout = w, w
	require.NoError(t, cmd.Start())
	w.Close()
	p := &procs{addr: make(chan string, 8), newPD: make(chan int, 8), first: cmd}
	go func() {
		serving := regexp.MustCompile(`msg="uringd serving" addr=(\S+)`)
		upgraded := regexp.MustCompile(`msg="upgrade: new process serving; this one stops accepting and drains" new_pid=(\d+)`)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			p.mu.Lock()
			p.log.WriteString(line)
			p.mu.Unlock()
			if m := serving.FindStringSubmatch(line); m != nil {
				p.addr <- m[1]
			}
			if m := upgraded.FindStringSubmatch(line); m != nil {
				pid, _ := strconv.Atoi(m[1])
				p.mu.Lock()
				p.pids = append(p.pids, pid)
				p.mu.Unlock()
				p.newPD <- pid
			}
			if err != nil {
				r.Close()
				return
			}
		}
	}()
	t.Cleanup(func() {
		// Whatever is left of the family (a failed test). A successor is
		// the test's child once orphaned (subreaper): its pid cannot be
		// reused until waitExit reaps it, which takes it off the list.
		cmd.Process.Kill()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, pid := range p.pids {
			// Only a uringd: never a process that took over a reaped pid.
			exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			exe = strings.TrimSuffix(exe, " (deleted)")
			if err == nil && filepath.Base(exe) == "uringd" && strings.HasPrefix(exe, os.TempDir()) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return p
}

func (p *procs) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *procs) waitAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("uringd did not start:\n%s", p)
	}
	return ""
}

func (p *procs) waitLog(t *testing.T, sub string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(p.String(), sub) },
		30*time.Second, 5*time.Millisecond, "no %q in:\n%s", sub, p)
}

// waitExit waits for pid (the first process, or an orphaned predecessor:
// the test is the subreaper) and returns its exit status.
func (p *procs) waitExit(t *testing.T, pid int) int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		if pid == p.first.Process.Pid {
			p.first.Wait()
			done <- p.first.ProcessState.ExitCode()
			return
		}
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			p.mu.Lock()
			p.pids = slices.DeleteFunc(p.pids, func(q int) bool { return q == pid })
			p.mu.Unlock()
			if err != nil {
				done <- -100
				return
			}
			done <- ws.ExitStatus()
			return
		}
	}()
	select {
	case c := <-done:
		return c
	case <-time.After(60 * time.Second):
		t.Fatalf("uringd %d did not exit:\n%s", pid, p)
	}
	return -1
}

// load is the client side: Go net/http and raw TCP clients, keep-alive
// and a connection per request, pipelined and not, every body checked.
// A keep-alive client resends what the server had not answered when it
// closed the connection (its last response said Connection: close, or the
// close raced an idle connection's next request: no byte of a response
// came back): what HTTP clients do (RFC 9112 §9.3.1, Go's Transport for
// replayable requests). Any other failure is an error.
type load struct {
	addr    string
	ok      atomic.Int64
	errs    atomic.Int64
	resent  atomic.Int64 // unanswered requests sent again on a new connection
	kinds   [4]atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
	errMu   sync.Mutex
	errList []string
}

const (
	kindHTTPKeepAlive = iota
	kindHTTPNewConn
	kindRawPipelined
	kindRawNewConn
)

var kindNames = [4]string{"net/http keep-alive", "net/http new connection", "raw TCP pipelined keep-alive", "raw TCP new connection"}

func (l *load) fail(format string, args ...any) {
	l.errs.Add(1)
	l.errMu.Lock()
	if len(l.errList) < 20 {
		l.errList = append(l.errList, time.Now().UTC().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	}
	l.errMu.Unlock()
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) pace() { time.Sleep(time.Duration(1+rand.IntN(3)) * time.Millisecond) }

func startLoad(addr string, perKind int) *load {
	l := &load{addr: addr, stop: make(chan struct{})}
	keep := &http.Transport{MaxIdleConnsPerHost: perKind, MaxConnsPerHost: perKind, DisableCompression: true}
	fresh := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	for i := 0; i < perKind; i++ {
		l.wg.Add(4)
		go l.httpClient(&http.Client{Transport: keep, Timeout: 20 * time.Second}, kindHTTPKeepAlive)
		go l.httpClient(&http.Client{Transport: fresh, Timeout: 20 * time.Second}, kindHTTPNewConn)
		go l.rawPipelined(i)
		go l.rawNewConn(i)
	}
	return l
}

func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) httpClient(c *http.Client, kind int) {
	defer l.wg.Done()
	for n := 0; !l.stopped(); n++ {
		var req *http.Request
		want := helloBody
		switch n % 3 {
		case 0:
			req, _ = http.NewRequest("GET", "http://"+l.addr+"/", nil)
		case 1:
			req, _ = http.NewRequest("GET", "http://"+l.addr+"/fibonacci", nil)
			want = fibBody
		case 2:
			want = "echo " + strconv.Itoa(rand.Int())
			req, _ = http.NewRequest("POST", "http://"+l.addr+"/echo", strings.NewReader(want))
			// A POST is replayable for the Transport with an idempotency key:
			// it is resent when a keep-alive connection's close raced it.
			req.Header.Set("Idempotency-Key", want)
		}
		resp, err := c.Do(req)
		if err != nil {
			l.fail("%s %s %s: %v", kindNames[kind], req.Method, req.URL.Path, err)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != want {
			l.fail("%s %s %s: status %d body %q (want %q): %v", kindNames[kind], req.Method, req.URL.Path, resp.StatusCode, b, want, err)
			continue
		}
		l.ok.Add(1)
		l.kinds[kind].Add(1)
		l.pace()
	}
}

type rawReq struct {
	wire, want string
}

func newRawReq(close bool) rawReq {
	conn := ""
	if close {
		conn = "Connection: close\r\n"
	}
	switch rand.IntN(3) {
	case 0:
		return rawReq{"GET / HTTP/1.1\r\nHost: t\r\n" + conn + "\r\n", helloBody}
	case 1:
		return rawReq{"GET /fibonacci HTTP/1.1\r\nHost: t\r\n" + conn + "\r\n", fibBody}
	}
	body := "raw " + strconv.Itoa(rand.Int())
	return rawReq{fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s", len(body), conn, body), body}
}

// rawPipelined keeps one connection and sends 1 to 4 requests at once.
func (l *load) rawPipelined(i int) {
	defer l.wg.Done()
	var c net.Conn
	var br *bufio.Reader
	served := 0 // responses on this connection
	var queue []rawReq
	for !l.stopped() || len(queue) > 0 {
		if len(queue) == 0 {
			for k := 1 + rand.IntN(4); k > 0; k-- {
				queue = append(queue, newRawReq(false))
			}
		}
		if c == nil {
			var err error
			if c, err = net.Dial("tcp", l.addr); err != nil {
				l.fail("raw pipelined dial: %v", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			br, served = bufio.NewReader(c), 0
		}
		var wire strings.Builder
		for _, r := range queue {
			wire.WriteString(r.wire)
		}
		_, werr := io.WriteString(c, wire.String())
		answered, closing := 0, false
		for _, r := range queue {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				// Nothing of this response came back. On a connection that
				// served before, the server closed it: resend. On a fresh
				// one, it is a failure.
				if served == 0 && answered == 0 {
					l.fail("raw pipelined: fresh connection, no response (write: %v): %v", werr, err)
				}
				break
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(b) != r.want {
				l.fail("raw pipelined %q: status %d body %q: %v", r.wire, resp.StatusCode, b, err)
			} else {
				l.ok.Add(1)
				l.kinds[kindRawPipelined].Add(1)
			}
			answered++
			served++
			if resp.Close {
				closing = true
				break
			}
		}
		if answered < len(queue) {
			l.resent.Add(int64(len(queue) - answered))
		}
		queue = queue[answered:]
		if closing || len(queue) > 0 { // closed by the server: a new connection
			c.Close()
			c = nil
		}
		if len(queue) == 0 {
			l.pace()
		}
	}
	if c != nil {
		c.Close()
	}
}

// rawNewConn sends one request per connection (Connection: close) and
// reads to EOF.
func (l *load) rawNewConn(i int) {
	defer l.wg.Done()
	for !l.stopped() {
		r := newRawReq(true)
		c, err := net.Dial("tcp", l.addr)
		if err != nil {
			l.fail("raw new connection dial: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, r.wire); err != nil {
			l.fail("raw new connection write: %v", err)
			c.Close()
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			l.fail("raw new connection %q: %v", r.wire, err)
			c.Close()
			continue
		}
		b, err := io.ReadAll(resp.Body)
		c.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != r.want || !resp.Close {
			l.fail("raw new connection %q: status %d close %v body %q: %v", r.wire, resp.StatusCode, resp.Close, b, err)
			continue
		}
		l.ok.Add(1)
		l.kinds[kindRawNewConn].Add(1)
		l.pace()
	}
}

var byeRequests = regexp.MustCompile(`msg=bye .*?requests=(\d+)`)

// Three SIGUSR2 upgrades of the real binary under load from 200 clients
// (50 of each kind), on each engine: zero errors, every body right; each
// predecessor exits 0 after draining; the requests the processes say they
// served add up to the responses the clients got.
func TestRestartUnderLoadThreeUpgrades(t *testing.T) {
	bin := buildUringd(t)
	for _, engine := range []string{"io_uring", "netpoll"} {
		t.Run(engine, func(t *testing.T) {
			if _, err := uring.Probe(); err != nil && engine == "io_uring" {
				t.Skipf("io_uring unavailable here: %v", err)
			}
			restartUnderLoad(t, bin, engine)
		})
	}
}

func restartUnderLoad(t *testing.T, bin, engine string) {
	start := time.Now()
	cmd := exec.Command(bin, "-engine", engine, "-addr", "127.0.0.1:0", "-workers", "2", "-grace", "10s", "-upgrade-timeout", "30s")
	fam := startFamily(t, cmd)
	addr := fam.waitAddr(t)
	l := startLoad(addr, 50)
	defer func() {
		if !l.stopped() {
			l.finish()
		}
	}()
	phase := func() int64 {
		before := l.ok.Load()
		time.Sleep(2 * time.Second)
		return l.ok.Load() - before
	}
	pid := cmd.Process.Pid
	var counts []string
	counts = append(counts, fmt.Sprintf("before the first restart: %d", phase()))
	for i := 1; i <= 3; i++ {
		require.NoError(t, syscall.Kill(pid, syscall.SIGUSR2))
		var next int
		select {
		case next = <-fam.newPD:
		case <-time.After(60 * time.Second):
			t.Fatalf("upgrade %d did not happen:\n%s", i, fam)
		}
		select {
		case <-fam.addr: // the successor's startup line
		case <-time.After(10 * time.Second):
			t.Fatalf("no startup line of %d", next)
		}
		assert.Equal(t, 0, fam.waitExit(t, pid), "the predecessor drains and exits 0")
		pid = next
		counts = append(counts, fmt.Sprintf("after restart %d (pid %d): %d", i, pid, phase()))
	}
	l.finish()
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, pid))
	// The exit can be seen before the reader of its stderr has taken the
	// last lines (seen once under load): wait for the fourth bye.
	assert.Eventually(t, func() bool { return len(byeRequests.FindAllStringSubmatch(fam.String(), -1)) == 4 },
		10*time.Second, 5*time.Millisecond, "four processes said bye")
	log := fam.String()
	var served int64
	for _, m := range byeRequests.FindAllStringSubmatch(log, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		served += n
	}
	t.Logf("restart test (%s): %d requests answered and checked in %v, %d errors, %d resent after a close; per phase: %s",
		engine, l.ok.Load(), time.Since(start).Round(time.Millisecond), l.errs.Load(), l.resent.Load(), strings.Join(counts, ", "))
	for k, n := range kindNames {
		t.Logf("  %-30s %d", n, l.kinds[k].Load())
	}
	assert.Len(t, byeRequests.FindAllStringSubmatch(log, -1), 4, "four processes said bye")
	assert.Equal(t, 3, strings.Count(log, "serving inherited listening sockets"), log)
	assert.Zero(t, l.errs.Load(), "errors: %v", l.errList)
	assert.Equal(t, l.ok.Load(), served, "requests served (the processes' bye lines) == responses the clients got")
	assert.NotContains(t, log, "level=ERROR")
	for k := range kindNames {
		assert.NotZero(t, l.kinds[k].Load(), kindNames[k])
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

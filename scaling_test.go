package uringd_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"golang.org/x/sys/unix"
)

// quietLoadEnv makes the test binary the load generator of
// TestTwoWorkersRuntimeStaysQuiet: a separate process, so that its threads
// are not counted with the server's.
const quietLoadEnv = "URINGD_TEST_QUIET_LOAD"

const (
	quietConns    = 20
	quietRequests = 1000 // per connection
)

// TestTwoWorkersRuntimeStaysQuiet: with two workers serving keep-alive
// requests, the Go runtime's own threads (sysmon, idle Ms, the spare P's
// thread) stay asleep: in bench's shared2 scenario they switched about
// 0.002 times per request, the workers about 0.13 (bench/README.md,
// "Scaling across cores"). A worker waiting in a syscall the scheduler sees
// (KeepGOMAXPROCS) makes sysmon hand its P to another thread on every long
// wait: 0.09 switches per request on threads other than the workers, which
// this bound catches. Counts, not timings: context switches from
// /proc/self/task/*/status, over requests from the server's own counters.
// The allowance per second covers what the runtime does by the clock
// whatever the load (sysmon preempts a worker every 10 ms: a signal and a
// handoff of its P), which on a slow machine is more per request.
func TestTwoWorkersRuntimeStaysQuiet(t *testing.T) {
	if addr := os.Getenv(quietLoadEnv); addr != "" {
		quietLoad(t, addr)
		return
	}
	var set unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &set))
	if set.Count() < 2 {
		t.Skip("needs 2 CPUs: the workers are told apart by their single-CPU affinity")
	}
	cfg := testConfig(uringd.TestModes[0])
	cfg.Logger = testLogger(t)
	// Threads pinned before this server started belong to an earlier one
	// (a locked thread ends a little after its worker returned): ignored.
	earlier, err := taskSwitches()
	require.NoError(t, err)
	s := startServer(t, cfg)

	before, err := taskSwitches()
	require.NoError(t, err)
	reqs0 := s.Stats().Total.Requests
	t0 := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoWorkersRuntimeStaysQuiet$")
	cmd.Env = append(os.Environ(), quietLoadEnv+"="+s.Addr().String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "load generator: %s", out)
	elapsed := time.Since(t0)
	after, err := taskSwitches()
	require.NoError(t, err)
	reqs := s.Stats().Total.Requests - reqs0
	require.EqualValues(t, quietConns*quietRequests, reqs)

	var workers, others uint64
	nWorkers := 0
	for tid, a := range after {
		if earlier[tid].pinned {
			continue
		}
		d := a.switches - before[tid].switches // a new thread started from 0
		if a.pinned {
			workers += d
			nWorkers++
		} else {
			others += d
		}
	}
	threads := len(after)
	t.Logf("%d requests in %v: worker threads %.4f switches/request, the %d other threads %.4f; %d threads, GOMAXPROCS %d",
		reqs, elapsed, float64(workers)/float64(reqs), threads-nWorkers, float64(others)/float64(reqs),
		threads, runtime.GOMAXPROCS(0))
	require.Equal(t, cfg.Workers, nWorkers, "one thread pinned per worker")
	allowance := reqs/50 + uint64(1000*cfg.Workers)*uint64(elapsed/time.Second+1)
	require.LessOrEqual(t, others, allowance,
		"threads other than the workers switched %d times for %d requests", others, reqs)
	// The runtime starts a thread per P, sysmon and a few for blocking
	// syscalls; a thread per connection or per request would be far more.
	require.LessOrEqual(t, threads, 2*runtime.GOMAXPROCS(0)+12, "OS threads")
}

// taskStat is one thread's context switches so far, and whether it is
// pinned to one CPU (a worker).
type taskStat struct {
	switches uint64
	pinned   bool
}

func taskSwitches() (map[string]taskStat, error) {
	dirs, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		return nil, err
	}
	m := map[string]taskStat{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue // the thread exited meanwhile
		}
		var st taskStat
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches":
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %v", d, k, err)
				}
				st.switches += n
			case "Cpus_allowed_list":
				st.pinned = !strings.ContainsAny(v, ",-")
			}
		}
		m[filepath.Base(d)] = st
	}
	return m, nil
}

// quietLoad runs in the child: quietConns keep-alive connections, each
// sending quietRequests GET / one after the other.
func quietLoad(t *testing.T, addr string) {
	var wg sync.WaitGroup
	errs := make(chan error, quietConns)
	for range quietConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for range quietRequests {
				if _, err := c.Write([]byte(helloReq)); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs <- err
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d, %v", resp.StatusCode, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// lookPath finds a Prometheus tool (Debian's prometheus package has both
// prometheus and promtool), or skips the test saying how to get it.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install prometheus)", name)
	}
	return p
}

// promtool's linter (the conventions: _total on counters, base units, no
// reserved suffixes on gauges, HELP on every family) accepts a real scrape.
func TestPromtoolLintsScrapeClean(t *testing.T) {
	promtool := lookPath(t, "promtool")
	// The check can fail: a counter without _total is refused.
	bad := exec.Command(promtool, "check", "metrics")
	bad.Stdin = strings.NewReader("# HELP x_requests Requests.\n# TYPE x_requests counter\nx_requests 1\n")
	out, err := bad.CombinedOutput()
	require.Error(t, err, "promtool accepted a counter without _total: %s", out)

	srv, _, base := startServer(t, uringd.EngineIOUring)
	resp, err := http.Get("http://" + srv.Addr().String() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err = cmd.CombinedOutput()
	assert.NoError(t, err, "promtool: %s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "lint warnings")
}

// A real Prometheus server scrapes uringd's /metrics and answers PromQL
// with what was sent: the target is up, and sum(uringd_requests_total) is
// the number of requests.
func TestPrometheusScrapesUringd(t *testing.T) {
	prom := lookPath(t, "prometheus")
	srv, _, base := startServer(t, uringd.EngineAuto)
	const n = 9
	for i := 0; i < n; i++ {
		resp, err := http.Get("http://" + srv.Addr().String() + "/")
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	dir := t.TempDir()
	target := strings.TrimPrefix(base, "http://")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: uringd\n    static_configs:\n      - targets: [%q]\n", target)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))
	web := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); cmd.Wait() })

	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false // not up yet
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return 0, false
		}
		var v float64
		s, _ := r.Data.Result[0].Value[1].(string)
		_, err = fmt.Sscan(s, &v)
		return v, err == nil
	}
	require.Eventually(t, func() bool {
		v, ok := query(`sum(uringd_requests_total{job="uringd"})`)
		return ok && v == n
	}, 60*time.Second, 200*time.Millisecond, "Prometheus never saw %d requests; its log:\n%s", n, &log)
	up, ok := query(`up{job="uringd"}`)
	assert.True(t, ok)
	assert.Equal(t, 1.0, up)
	workers, ok := query(`count(uringd_requests_total{job="uringd"})`)
	assert.True(t, ok)
	assert.Equal(t, float64(srv.Workers()), workers, "one series per worker")
	eng, ok := query(fmt.Sprintf(`uringd_engine_info{engine=%q}`, srv.Engine().String()))
	assert.True(t, ok)
	assert.Equal(t, 1.0, eng)
}

// syncBuffer collects a child's output while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr is a loopback address no one listens on (for a child process
// that takes no port 0).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

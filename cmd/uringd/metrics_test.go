package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metricsAddr is the -metrics address uringd logged it listens on.
func (s *server) metricsAddr(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`msg="metrics serving" addr=(\S+)`).FindStringSubmatch(s.log.String())
	require.NotNil(t, m, "no metrics line in:\n%s", s.log.String())
	return m[1]
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// scrapeSum GETs /metrics, parses it with Prometheus' parser and adds up
// the samples of the family name (every worker's).
func scrapeSum(t *testing.T, base, name string) float64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	fam := fams[name]
	require.NotNil(t, fam, "no %s in:\n%s", name, body)
	var sum float64
	for _, m := range fam.Metric {
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if fam.GetType() == dto.MetricType_UNTYPED {
			t.Fatalf("%s has no TYPE", name)
		}
	}
	return sum
}

// The binary with -metrics: /metrics counts the requests it served,
// /readyz is 200 while it serves and 503 from the SIGTERM on, through the
// graceful shutdown (held open here by a request whose body is still
// arriving), while /healthz and /metrics still answer; then the request
// finishes, uringd exits 0, and the metrics listener is gone with it.
func TestMetricsAndReadinessThroughShutdown(t *testing.T) {
	for _, engine := range []string{"io_uring", "netpoll"} {
		t.Run(engine, func(t *testing.T) {
			s := startServer(t, false, "-engine", engine, "-addr", "127.0.0.1:0", "-workers", "2",
				"-metrics", "127.0.0.1:0", "-grace", "1m",
				"-body-timeout", "1m", "-request-read-timeout", "1m", "-min-body-rate-grace", "1m")
			base := "http://" + s.metricsAddr(t)
			code, body := httpGet(t, base+"/readyz")
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ready\n", body)

			const n = 12
			for i := 0; i < n; i++ {
				code, body := httpGet(t, "http://"+s.addr+"/")
				require.Equal(t, http.StatusOK, code)
				require.Equal(t, "Hello, World!", body)
			}
			require.Eventually(t, func() bool { return scrapeSum(t, base, "uringd_requests_total") == n },
				10*time.Second, 10*time.Millisecond)
			assert.Equal(t, 1.0, scrapeSum(t, base, "uringd_ready"))

			// A request the server has (the 100 Continue says so) and whose
			// body is half sent holds the graceful shutdown open.
			c, err := net.Dial("tcp", s.addr)
			require.NoError(t, err)
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
			br := bufio.NewReader(c)
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
			_, err = br.ReadString('\n')
			require.NoError(t, err)
			_, err = c.Write([]byte("hello"))
			require.NoError(t, err)

			s.signal(t, syscall.SIGTERM)
			require.Eventually(t, func() bool {
				code, _ := httpGet(t, base+"/readyz")
				return code == http.StatusServiceUnavailable
			}, 20*time.Second, 5*time.Millisecond, "/readyz still 200 after SIGTERM:\n%s", &s.log)
			s.waitLog(t, `msg="shutting down"`)
			code, body = httpGet(t, base+"/readyz")
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "draining\n", body)
			code, _ = httpGet(t, base+"/healthz")
			assert.Equal(t, http.StatusOK, code, "draining is alive")
			assert.Equal(t, 0.0, scrapeSum(t, base, "uringd_ready"))
			assert.Equal(t, 1.0, scrapeSum(t, base, "uringd_connections_open"), "the request in flight")
			select {
			case <-s.exited:
				t.Fatalf("uringd exited with a request in flight:\n%s", s.log.String())
			default:
			}

			_, err = c.Write([]byte("world"))
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			echoed, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "helloworld", string(echoed))

			assert.Equal(t, 0, s.wait(t), s.log.String())
			_, err = net.DialTimeout("tcp", s.metricsAddr(t), 5*time.Second)
			assert.Error(t, err, "the metrics listener closes with the process")
			assert.NotContains(t, s.log.String(), "level=ERROR")
		})
	}
}

// A malformed -metrics address is a usage error (exit 2), one that cannot
// be listened on stops uringd before it serves (exit 1, as -addr's does);
// both name the flag, and say "uringd:" once.
func TestMetricsFlagErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, c := range []struct {
		addr string
		code int
		want string
	}{
		{"localhost", 2, "missing port"},
		{"127.0.0.1:no-such-port", 2, "unknown port"},
		{busy.Addr().String(), 1, "address already in use"},
	} {
		code, out := runOut(t, "-addr", "127.0.0.1:0", "-metrics", c.addr)
		assert.Equal(t, c.code, code, "%q: %s", c.addr, out)
		assert.Contains(t, out, "uringd: -metrics: ", c.addr)
		assert.Contains(t, out, c.want, c.addr)
		assert.Equal(t, 1, strings.Count(out, "uringd:"), "%q: %s", c.addr, out)
		assert.NotContains(t, out, "uringd serving", "refused before serving")
	}
}

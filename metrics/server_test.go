package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/metrics"
	"github.com/uringd/uringd/uring"
)

// startServer starts a real uringd server on a free loopback port with the
// given engine (io_uring skips where the kernel or a seccomp filter refuses
// it) and two routes, and serves its metrics handler on a listener of its
// own, as cmd/uringd does.
func startServer(t *testing.T, engine uringd.Engine, opts ...func(*uringd.Config)) (*uringd.Server, *metrics.Handler, string) {
	t.Helper()
	if engine == uringd.EngineIOUring {
		if _, err := uring.Probe(); err != nil {
			t.Skipf("io_uring unavailable here: %v", err)
		}
	}
	cfg := uringd.Config{
		Addr: "127.0.0.1:0", Workers: 2, Engine: engine,
		HeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := uringd.New(cfg)
	require.NoError(t, err)
	srv.HandleFunc("GET /{$}", func(w *uringd.Response, r *uringd.Request) {
		w.WriteString("Hello, World!")
	})
	srv.HandleFunc("POST /echo", func(w *uringd.Response, r *uringd.Request) {
		w.Write(r.Body)
	})
	h := metrics.New(srv)
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	h.SetReady()
	ms := httptest.NewServer(h)
	t.Cleanup(ms.Close)
	return srv, h, ms.URL
}

// scrape GETs /metrics and parses it with Prometheus' parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, metrics.ContentType, resp.Header.Get("Content-Type"))
	assert.Equal(t, expfmt.TypeTextPlain, expfmt.ResponseFormat(resp.Header).FormatType())
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sum adds up the samples of a family whose labels include kv (every
// worker's, for a per-worker family).
func sum(fams map[string]*dto.MetricFamily, name string, kv ...string) float64 {
	var s float64
	fam := fams[name]
	if fam == nil {
		return -1
	}
	for _, m := range fam.Metric {
		if matches(m, kv...) {
			s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return s
}

func matches(m *dto.Metric, kv ...string) bool {
	for i := 0; i < len(kv); i += 2 {
		ok := false
		for _, l := range m.Label {
			ok = ok || l.GetName() == kv[i] && l.GetValue() == kv[i+1]
		}
		if !ok {
			return false
		}
	}
	return true
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// Real requests over real connections show up in the scrape as they were
// sent: requests and connections exactly, bytes at least what went over
// the wire in each direction, per-worker series that add up to the
// server's totals, errors and open connections as they happen.
func TestScrapeCountsWhatWasSent(t *testing.T) {
	for _, engine := range []uringd.Engine{uringd.EngineIOUring, uringd.EngineNetpoll} {
		t.Run(engine.String(), func(t *testing.T) {
			srv, _, base := startServer(t, engine)
			addr := "http://" + srv.Addr().String()
			before := scrape(t, base)
			assert.Zero(t, sum(before, "uringd_requests_total"))
			assert.Zero(t, sum(before, "uringd_connections_accepted_total"))

			// One keep-alive connection for the echoes, a new connection
			// per GET for the others.
			keep := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
			fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			const echoes, gets = 20, 7
			body := bytes.Repeat([]byte("0123456789"), 100)
			for i := 0; i < echoes; i++ {
				resp, err := keep.Post(addr+"/echo", "application/octet-stream", bytes.NewReader(body))
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, body, got)
			}
			for i := 0; i < gets; i++ {
				resp, err := fresh.Get(addr + "/")
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			// One request the parser refuses, on a raw connection.
			c, err := net.Dial("tcp", srv.Addr().String())
			require.NoError(t, err)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			c.Close()

			// Counters are published once per loop turn, and the closes of
			// the fresh connections are the server's to see: wait for the
			// scrape to settle on the keep-alive connection alone.
			var fams map[string]*dto.MetricFamily
			require.Eventually(t, func() bool {
				fams = scrape(t, base)
				return sum(fams, "uringd_requests_total") == echoes+gets &&
					sum(fams, "uringd_connections_open") == 1 &&
					sum(fams, "uringd_errors_total", "kind", "bad_request") == 1 &&
					sum(fams, "uringd_bytes_sent_total") >= echoes*float64(len(body))
			}, 10*time.Second, 10*time.Millisecond, "scrape never settled")

			assert.Equal(t, float64(echoes+gets), sum(fams, "uringd_requests_total"), "exactly the requests sent")
			assert.Equal(t, float64(1+gets+1), sum(fams, "uringd_connections_accepted_total"),
				"one keep-alive connection, one per GET, the raw one")
			assert.GreaterOrEqual(t, sum(fams, "uringd_bytes_received_total"), float64(echoes*len(body)))
			assert.GreaterOrEqual(t, sum(fams, "uringd_bytes_sent_total"), float64(echoes*len(body)+gets*len("Hello, World!")))
			assert.Zero(t, sum(fams, "uringd_errors_total", "kind", "handler_panic"))

			// The per-worker series are the workers' own counters: they add
			// up to the server's totals (nothing moves now but loop turns).
			st := srv.Stats()
			assert.Equal(t, float64(st.Total.Requests), sum(fams, "uringd_requests_total"))
			assert.Equal(t, float64(st.Total.BytesIn), sum(fams, "uringd_bytes_received_total"))
			assert.Equal(t, float64(st.Total.BytesOut), sum(fams, "uringd_bytes_sent_total"))
			assert.Equal(t, float64(st.Total.Accepted), sum(fams, "uringd_connections_accepted_total"))
			assert.Len(t, fams["uringd_requests_total"].Metric, len(st.Workers), "a series per worker")
			for i, w := range st.Workers {
				assert.Equal(t, float64(w.Requests), sum(fams, "uringd_requests_total", "worker", strconv.Itoa(i)))
			}
			assert.Equal(t, float64(len(st.Workers)), sum(fams, "uringd_workers"))

			// The engine and the io_uring features in use, as the server
			// reports them (none on netpoll).
			assert.Equal(t, 1.0, sum(fams, "uringd_engine_info", "engine", srv.Engine().String()))
			assert.Equal(t, engine, srv.Engine())
			used := srv.Features()
			if engine == uringd.EngineNetpoll {
				assert.Zero(t, used)
			}
			n := 0
			for f := uring.Feature(1); uring.AllFeatures.Has(f); f <<= 1 {
				want := 0.0
				if used.Has(f) {
					want = 1
				}
				assert.Equal(t, want, sum(fams, "uringd_iouring_feature", "feature", f.String()), f.String())
				n++
			}
			assert.Len(t, fams["uringd_iouring_feature"].Metric, n, "one series per known feature")

			keep.CloseIdleConnections()
			require.Eventually(t, func() bool { return sum(scrape(t, base), "uringd_connections_open") == 0 },
				10*time.Second, 10*time.Millisecond)
		})
	}
}

// A connection that stops in the middle of its request head, and one left
// idle after its request, are closed by their timeouts, and each shows up
// under its kind.
func TestTimeoutsByKind(t *testing.T) {
	for _, engine := range []uringd.Engine{uringd.EngineIOUring, uringd.EngineNetpoll} {
		t.Run(engine.String(), func(t *testing.T) {
			srv, _, base := startServer(t, engine, func(c *uringd.Config) {
				c.HeaderTimeout, c.IdleTimeout, c.Tick = 300*time.Millisecond, 300*time.Millisecond, 10*time.Millisecond
			})
			closed := func(c net.Conn) {
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, err := io.Copy(io.Discard, c)
				require.NoError(t, err, "closed by the server, not by the deadline")
			}
			head, err := net.Dial("tcp", srv.Addr().String())
			require.NoError(t, err)
			defer head.Close()
			fmt.Fprintf(head, "GET / HTTP/1.1\r\nHost: x\r\n")
			closed(head)

			idle, err := net.Dial("tcp", srv.Addr().String())
			require.NoError(t, err)
			defer idle.Close()
			fmt.Fprintf(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			closed(idle) // the response, then the close

			var fams map[string]*dto.MetricFamily
			require.Eventually(t, func() bool {
				fams = scrape(t, base)
				return sum(fams, "uringd_timeouts_total", "kind", "idle") == 1
			}, 10*time.Second, 10*time.Millisecond)
			assert.Equal(t, 1.0, sum(fams, "uringd_timeouts_total", "kind", "head"))
			assert.Equal(t, 0.0, sum(fams, "uringd_timeouts_total", "kind", "body"))
			assert.Equal(t, 0.0, sum(fams, "uringd_timeouts_total", "kind", "write"))
			assert.Equal(t, 1.0, sum(fams, "uringd_requests_total"))
			assert.Len(t, fams["uringd_timeouts_total"].Metric, 4, "head, body, idle, write")
		})
	}
}

// /healthz answers while the process serves; /readyz follows the state:
// 503 while starting, 200 once ready, 503 as soon as the drain starts and
// through the graceful shutdown, while /metrics still serves.
func TestHealthAndReadiness(t *testing.T) {
	srv, err := uringd.New(uringd.Config{Addr: "127.0.0.1:0", Workers: 1, Engine: uringd.EngineAuto,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv.HandleFunc("GET /{$}", func(w *uringd.Response, r *uringd.Request) { w.WriteString("hi") })
	h := metrics.New(srv)
	ms := httptest.NewServer(h)
	defer ms.Close()

	code, body := get(t, ms.URL+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "starting\n", body)
	code, body = get(t, ms.URL+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	require.NoError(t, srv.Start())
	h.SetReady()
	code, body = get(t, ms.URL+"/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ready\n", body)
	assert.Equal(t, 1.0, sum(scrape(t, ms.URL), "uringd_ready"))

	// A connection with a request half sent holds the graceful shutdown
	// open: it is draining, not done.
	c, err := net.Dial("tcp", srv.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	require.Eventually(t, func() bool { return srv.Stats().Total.BytesIn > 0 }, 10*time.Second, time.Millisecond)

	h.Drain()
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	code, body = get(t, ms.URL+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "draining\n", body)
	code, _ = get(t, ms.URL+"/healthz")
	assert.Equal(t, http.StatusOK, code, "draining is alive")
	fams := scrape(t, ms.URL)
	assert.Equal(t, 0.0, sum(fams, "uringd_ready"))
	assert.Equal(t, 1.0, sum(fams, "uringd_connections_open"), "the request in flight")

	h.SetReady() // a drain is final
	code, _ = get(t, ms.URL+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)

	fmt.Fprintf(c, "\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	assert.True(t, resp.Close, "answered with Connection: close by the shutdown")
	require.NoError(t, <-shut)
}

// Only GET (and HEAD) are served; other paths are 404.
func TestMethodsAndPaths(t *testing.T) {
	_, _, base := startServer(t, uringd.EngineNetpoll)
	resp, err := http.Post(base+"/metrics", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Head(base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, metrics.ContentType, resp.Header.Get("Content-Type"))
	code, _ := get(t, base+"/")
	assert.Equal(t, http.StatusNotFound, code)
}

package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// During -shutdown-delay the instance is out of the load balancer's
// rotation (/readyz 503) yet still accepts and answers new connections;
// after it, the graceful shutdown runs and uringd exits 0.
func TestShutdownDelayServesWhileNotReady(t *testing.T) {
	s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-engine", "auto",
		"-metrics", "127.0.0.1:0", "-shutdown-delay", "1m")
	base := "http://" + s.metricsAddr(t)
	// Ready just after the startup line: wait for it, as a balancer would.
	require.Eventually(t, func() bool { code, _ := httpGet(t, base+"/readyz"); return code == http.StatusOK },
		20*time.Second, 5*time.Millisecond)

	s.signal(t, syscall.SIGTERM)
	s.waitLog(t, "shutdown delay: still serving")
	code, _ := httpGet(t, base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	for range 3 { // each on a new connection: the listener is still open
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + s.addr + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.NotContains(t, s.log.String(), "shutting down", "the graceful shutdown started before the delay was over")

	// A second signal ends the delay and, as without one, stops at once.
	s.signal(t, syscall.SIGTERM)
	assert.Equal(t, 1, s.wait(t), s.log.String())
	assert.Contains(t, s.log.String(), "second signal: stopping now")
}

// After the delay the shutdown is the usual graceful one: exit 0, its log
// lines after the delay's.
func TestShutdownDelayThenGraceful(t *testing.T) {
	s := startServer(t, false, "-addr", "127.0.0.1:0", "-workers", "1", "-engine", "auto",
		"-metrics", "127.0.0.1:0", "-shutdown-delay", "200ms")
	s.signal(t, syscall.SIGTERM)
	require.Equal(t, 0, s.wait(t), s.log.String())
	log := s.log.String()
	d, g := strings.Index(log, "shutdown delay: still serving"), strings.Index(log, `msg="shutting down"`)
	require.GreaterOrEqual(t, d, 0, log)
	require.Greater(t, g, d, log)
}

func TestShutdownDelayFlagErrors(t *testing.T) {
	code, out := runOut(t, "-shutdown-delay", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, `-shutdown-delay`)
}

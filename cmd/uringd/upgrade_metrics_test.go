package main

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A SIGUSR2 upgrade with -metrics: the successor listens on the same
// metrics address while its predecessor still holds it (it drains only
// once the successor is ready), so the metrics listener binds with
// SO_REUSEPORT; without it the successor's listen fails with EADDRINUSE and
// the upgrade with it. After the upgrade the successor answers /readyz and
// /metrics on that address.
func TestUpgradeWithMetricsRebindsTheMetricsAddress(t *testing.T) {
	bin := buildUringd(t)
	maddr := freePort(t)
	cmd := exec.Command(bin, "-engine", "auto", "-addr", "127.0.0.1:0", "-workers", "1", "-metrics", maddr, "-upgrade-timeout", "10s")
	fam := startFamily(t, cmd)
	addr := fam.waitAddr(t)
	fam.waitLog(t, `msg="metrics serving"`)
	require.Equal(t, "ready\n", getBody(t, "http://"+maddr+"/readyz"))

	require.NoError(t, cmd.Process.Signal(syscall.SIGUSR2))
	var next int
	select {
	case next = <-fam.newPD:
	case <-time.After(30 * time.Second):
		t.Fatalf("no upgrade:\n%s", fam)
	}
	assert.Equal(t, 0, fam.waitExit(t, cmd.Process.Pid))
	assert.Equal(t, helloBody, getBody(t, "http://"+addr+"/"))
	assert.Equal(t, "ready\n", getBody(t, "http://"+maddr+"/readyz"), "the successor serves the metrics address")
	assert.Contains(t, getBody(t, "http://"+maddr+"/metrics"), "uringd_requests_total")
	require.NoError(t, syscall.Kill(next, syscall.SIGTERM))
	assert.Equal(t, 0, fam.waitExit(t, next))
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shipped units: systemd-analyze verify has nothing to say about them
// (unknown keys, bad values and a missing binary are all reported; the
// built binary stands in for /usr/local/bin/uringd), and the socket gives
// one SO_REUSEPORT socket per worker of the service's ExecStart.
func TestDeployUnits(t *testing.T) {
	sock, err := os.ReadFile("../../deploy/uringd.socket")
	require.NoError(t, err)
	svc, err := os.ReadFile("../../deploy/uringd.service")
	require.NoError(t, err)

	exe := regexp.MustCompile(`(?m)^ExecStart=(\S+) (.*)$`).FindSubmatch(svc)
	require.NotNil(t, exe, "ExecStart")
	w := regexp.MustCompile(`-workers (\d+)`).FindSubmatch(exe[2])
	require.NotNil(t, w, "ExecStart gives -workers")
	workers, _ := strconv.Atoi(string(w[1]))
	assert.Equal(t, workers, len(regexp.MustCompile(`(?m)^ListenStream=`).FindAll(sock, -1)),
		"one ListenStream= per worker (the service runs as User=: no siblings of root's sockets)")
	assert.Regexp(t, `(?m)^ReusePort=yes$`, string(sock))
	assert.Regexp(t, `(?m)^Type=notify$`, string(svc))
	assert.Regexp(t, `(?m)^NotifyAccess=all$`, string(svc))
	// The flags in ExecStart are uringd's.
	code, out := runOut(t, append(strings.Fields(string(exe[2])), "-h")...)
	assert.Equal(t, 0, code, out)

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	bin := buildUringd(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "uringd.socket"), sock, 0o644))
	svc = []byte(strings.Replace(string(svc), string(exe[1]), bin, 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "uringd.service"), svc, 0o644))
	cmd := exec.Command(analyze, "verify", "--man=no", "uringd.socket", "uringd.service")
	cmd.Dir = dir
	vout, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", vout)
	assert.Empty(t, strings.TrimSpace(string(vout)))
}

// Package haproxy_test runs the HAProxy recipe (run.sh beside it) as CI
// does: HAProxy from Debian in front of two uringd instances, a rolling
// restart of both under load, and checks what it left behind, the load's
// counts, uringd's access logs and HAProxy's log, on its own.
package haproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// summary is loadgen's -summary file.
type summary struct {
	Requests, OK, Failed, KeepAlive, NewConn, Pipelined, Conns int64
	Errors                                                     []string
}

func TestHAProxyRollingRestart(t *testing.T) {
	for _, tool := range []string{"haproxy", "curl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: apt-get install -y %s): the HAProxy recipe cannot run", tool, tool)
		}
	}
	if raceEnabled {
		t.Skip("-race: run.sh builds its own binaries without it; the plain run covers the recipe")
	}
	work := t.TempDir()
	env := append(os.Environ(), "WORK="+work)
	for _, name := range []string{"HAPROXY_PORT", "STATS_PORT", "A_PORT", "A_CHECK", "B_PORT", "B_CHECK"} {
		env = append(env, name+"="+strconv.Itoa(freePort(t)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "run.sh")
	cmd.Env = env
	// run.sh's children (uringd, haproxy, loadgen) share its process group:
	// a run cut short by the timeout takes them all down.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("run.sh:\n%s", out.String())
	require.NoError(t, err, "run.sh failed; its files are in %s", work)

	// The load: every request answered, and correctly (loadgen checks each
	// body), over keep-alive, pipelined and new connections alike.
	b, err := os.ReadFile(filepath.Join(work, "load.json"))
	require.NoError(t, err)
	var s summary
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Zero(t, s.Failed, "failed requests: %v", s.Errors)
	assert.Equal(t, s.Requests, s.OK)
	assert.Positive(t, s.KeepAlive)
	assert.Positive(t, s.NewConn)
	assert.Positive(t, s.Pipelined)

	// Both instances were restarted and each generation served: HAProxy took
	// the new ones back. Every line names the client (the PROXY v2 header's
	// source, 127.0.0.2), never HAProxy (127.0.0.1).
	var lines int64
	for _, gen := range []string{"a.1", "a.2", "b.1", "b.2"} {
		b, err := os.ReadFile(filepath.Join(work, gen+".access.log"))
		require.NoError(t, err, "instance generation %s", gen)
		ls := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		require.NotEmpty(t, ls[0], "%s served nothing", gen)
		for _, l := range ls {
			require.True(t, strings.HasPrefix(l, "127.0.0.2 - - ["), "%s: %q", gen, l)
		}
		lines += int64(len(ls))
	}
	assert.GreaterOrEqual(t, lines, s.OK, "fewer access log lines than answered requests")

	// HAProxy's health checks saw each instance go DOWN and come back UP.
	hl, err := os.ReadFile(filepath.Join(work, "haproxy.log"))
	require.NoError(t, err)
	for _, srv := range []string{"a", "b"} {
		assert.Contains(t, string(hl), "Server uringd/"+srv+" is DOWN")
		assert.Contains(t, string(hl), "Server uringd/"+srv+" is UP")
	}
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

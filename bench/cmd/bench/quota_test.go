package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A busy loop confined to a fifth of a CPU gets about that much (well under
// half a CPU over a second); its group is gone after release.
func TestConfineLimitsCPU(t *testing.T) {
	if why := quotaUnavailable(); why != "" {
		t.Skip(why)
	}
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	q, err := confine(cmd.Process.Pid, 0.2)
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the loop runs confined from here
	c0, err := cpuTime(cmd.Process.Pid)
	require.NoError(t, err)
	time.Sleep(time.Second)
	c1, err := cpuTime(cmd.Process.Pid)
	require.NoError(t, err)
	require.Less(t, c1-c0, 500*time.Millisecond, "confined to 0.2 CPU")
	q.release()
	_, err = os.Stat(q.dir)
	require.True(t, os.IsNotExist(err), "group removed: %s", filepath.Base(q.dir))
}

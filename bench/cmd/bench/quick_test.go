package main

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQuick runs the whole harness in quick mode (about a second per run, one
// repetition): every server is built, checked for correct answers and loaded
// once in every scenario. It fails only if a server fails to build, answers
// wrongly, or crashes; timings are never asserted. CI runs it so the harness
// cannot rot; -short skips it.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("quick mode takes about two minutes; skipped with -short")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wrk is not installed (apt-get install -y wrk); CI must install it")
		}
		t.Skip("wrk is not installed (apt-get install -y wrk)")
	}
	cfg, err := parseFlags([]string{"-quick", "-out", t.TempDir()})
	require.NoError(t, err)
	report, err := run(context.Background(), cfg)
	require.NoError(t, err, "report: %s", report)
	t.Logf("report: %s", report)
}

func TestParseFlagsQuickDefaults(t *testing.T) {
	cfg, err := parseFlags([]string{"-quick", "-reps", "2", "-servers", "gnet,nethttp"})
	require.NoError(t, err)
	require.Equal(t, 2, cfg.reps, "an explicit flag wins over quick mode's default")
	require.Equal(t, 1000, cfg.idleConns)
	require.Equal(t, []string{"gnet", "nethttp"}, cfg.servers)

	_, err = parseFlags([]string{"-servers", "lighttpd"})
	require.ErrorContains(t, err, "unknown server")
}

//go:build linux && amd64

package uringd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The container case: a seccomp profile that refuses io_uring_setup (as
// Docker's default profile does, with EPERM). EngineAuto must fall back to
// netpoll, log the io_uring error, and serve; EngineIOUring must fail to
// start with that error. The filter can't be removed, so each case runs in a
// child process (this test binary re-executed).
func TestEngineAutoFallsBackUnderSeccomp(t *testing.T) {
	if mode := os.Getenv("URINGD_SECCOMP_CHILD"); mode != "" {
		seccompChild(t, mode)
		return
	}
	for _, mode := range []string{"auto", "io_uring", "auto-listen"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestEngineAutoFallsBackUnderSeccomp$", "-test.v")
			cmd.Env = append(os.Environ(), "URINGD_SECCOMP_CHILD="+mode)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, string(out), "CHILD OK", string(out))
		})
	}
}

func seccompChild(t *testing.T, mode string) {
	require.NoError(t, denyIOUringSetup())
	var logs bytes.Buffer
	cfg := Config{Addr: "127.0.0.1:0", Workers: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if mode == "io_uring" {
		s, err := New(cfg)
		require.NoError(t, err)
		err = s.Start()
		require.Error(t, err)
		assert.ErrorIs(t, err, unix.EPERM)
		fmt.Println("CHILD OK:", err)
		return
	}
	cfg.Engine = EngineAuto
	if mode == "auto-listen" {
		autoListenChild(t, cfg)
		return
	}
	s, err := New(cfg)
	require.NoError(t, err)
	s.HandleFunc("GET /{$}", func(w *Response, r *Request) { w.WriteString("plain") })
	s.Handle("/std/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "net/http")
	})))
	require.NoError(t, s.Start())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	assert.Equal(t, EngineNetpoll, s.Engine())
	assert.Contains(t, logs.String(), "io_uring unavailable")
	assert.Contains(t, logs.String(), "operation not permitted", "the log gives the io_uring error")
	for path, want := range map[string]string{"/": "plain", "/std/x": "net/http"} {
		resp, err := http.Get("http://" + s.Addr().String() + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, string(b))
	}
	if !t.Failed() {
		fmt.Println("CHILD OK:", strings.TrimSpace(logs.String()))
	}
}

// autoListenChild: embedded, ListenAndServe on the netpoll fallback returns
// ErrServerClosed after a clean Shutdown, not the io_uring error the
// fallback had already handled (it used to: a refused worker recorded its
// setup error as the error that stopped the server).
func autoListenChild(t *testing.T, cfg Config) {
	s, err := New(cfg)
	require.NoError(t, err)
	s.HandleFunc("GET /{$}", func(w *Response, r *Request) { w.WriteString("plain") })
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe() }()
	require.Eventually(t, func() bool { return s.Addr() != nil }, 10*time.Second, 5*time.Millisecond)
	resp, err := http.Get("http://" + s.Addr().String() + "/")
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	select {
	case err := <-served:
		require.ErrorIs(t, err, ErrServerClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after Shutdown")
	}
	assert.ErrorIs(t, s.Wait(), ErrServerClosed)
	if !t.Failed() {
		fmt.Println("CHILD OK: ListenAndServe returned ErrServerClosed")
	}
}

func TestParseEngineIsStringsInverse(t *testing.T) {
	for _, e := range []Engine{EngineIOUring, EngineNetpoll, EngineAuto} {
		got, err := ParseEngine(e.String())
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
	_, err := ParseEngine("epoll")
	require.ErrorContains(t, err, "want io_uring, netpoll or auto")
}

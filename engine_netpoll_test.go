package uringd

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A netpoll worker is an accept loop on its own SO_REUSEPORT listener:
// Workers is honoured (it used to be ignored: one accept loop, Workers()
// reporting 0 and MaxConnsPerWorker multiplied by Workers), the kernel
// spreads connections over the loops, each counts its own, and the startup
// log says what the setting means there.
func TestNetpollWorkersAreAcceptLoops(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	s, err := New(Config{Addr: "127.0.0.1:0", Engine: EngineNetpoll, Workers: 3, RingEntries: 64, Logger: log})
	require.NoError(t, err)
	s.HandleFunc("GET /{$}", func(w *Response, r *Request) { w.WriteString("ok") })
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx))
	})
	assert.Equal(t, 3, s.Workers())
	mu.Lock()
	assert.Contains(t, logs.String(), "netpoll engine: one accept loop per worker")
	assert.Contains(t, logs.String(), "workers=3")
	assert.Contains(t, logs.String(), "ignored=", "a ring setting is said to be ignored")
	mu.Unlock()

	const n = 30
	for i := 0; i < n; i++ {
		tr := &http.Transport{DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr}).Get("http://" + s.Addr().String() + "/")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, "ok", string(b))
	}
	st := s.Stats()
	require.Len(t, st.Workers, 3)
	assert.Equal(t, uint64(n), st.Total.Requests)
	busy := 0
	for _, w := range st.Workers {
		if w.Accepted > 0 {
			busy++
		}
	}
	// 30 connections from distinct ports all hashed to one listener of
	// three: probability 3^-29.
	assert.GreaterOrEqual(t, busy, 2, "the kernel spreads connections over the accept loops: %+v", st.Workers)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

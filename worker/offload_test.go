package worker

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// detachHandler detaches every request whose path starts with /raw and
// answers the others inline.
type detachHandler struct {
	run func(engine.Stream)
}

func (h *detachHandler) ServeHTTP(w *http1.Response, r *http1.Request) {
	if strings.HasPrefix(string(r.Path), "/raw") {
		w.WriteString("discarded: the handler detached")
		if string(r.Path) == "/rawbig" { // grows the response from the pool first
			w.WriteString(strings.Repeat("x", 64<<10))
		}
		if err := engine.Detach(w, h.run); err != nil {
			panic(err)
		}
		return
	}
	w.WriteString("inline")
}

// startOffloadWorker runs one worker with an offload pool on 127.0.0.1:0.
func startOffloadWorker(t *testing.T, h engine.Handler, maxPending int) string {
	t.Helper()
	fds, addr, err := engine.Listen("127.0.0.1:0", 1, 128)
	require.NoError(t, err)
	w, err := New(Config{
		Config: engine.Config{
			Handler: h, Offload: engine.NewPool(4, 4),
			Limits:           http1.DefaultLimits,
			MaxConns:         64,
			MaxPendingOutput: maxPending,
			HeaderTimeout:    10 * time.Second, BodyTimeout: 10 * time.Second,
			IdleTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		},
		CPU: -1, Listener: fds[0],
		Tick: 10 * time.Millisecond, RingEntries: 64, RecvBufferSize: 4096, RecvBuffers: 16,
	})
	require.NoError(t, err)
	ready := make(chan error, 1)
	go w.Run(ready)
	require.NoError(t, <-ready)
	t.Cleanup(func() {
		w.Shutdown(true)
		<-w.Done()
		w.Close()
	})
	return addr.String()
}

func TestDetachRawStreamInOrder(t *testing.T) {
	h := &detachHandler{run: func(s engine.Stream) {
		body := "raw " + string(s.Request().Target)
		s.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: "))
		s.Write([]byte(strconv.Itoa(len(body)) + "\r\n\r\n"))
		time.Sleep(5 * time.Millisecond) // the inline request behind waits
		s.Write([]byte(body))
		s.Finish(false)
	}}
	addr := startOffloadWorker(t, h, 64<<10)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /raw1 HTTP/1.1\r\nHost: x\r\n\r\nGET /in HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /raw2 HTTP/1.1\r\nHost: x\r\n\r\nGET /rawbig HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	for _, want := range []string{"raw /raw1", "inline", "raw /raw2", "raw /rawbig"} {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, want, string(b))
	}
}

func TestDetachBackpressureBoundsUnsent(t *testing.T) {
	const limit = 16 << 10
	var maxSeen int
	var mu sync.Mutex
	done := make(chan struct{})
	h := &detachHandler{run: func(es engine.Stream) {
		s := es.(*Stream)
		defer close(done)
		s.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"))
		chunk := make([]byte, 4096)
		for i := 0; i < 256; i++ {
			if _, err := s.Write(chunk); err != nil {
				return
			}
			s.mu.Lock()
			mu.Lock()
			maxSeen = max(maxSeen, s.unsent)
			mu.Unlock()
			s.mu.Unlock()
		}
		s.Finish(false)
	}}
	addr := startOffloadWorker(t, h, limit)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	_, err = io.WriteString(c, "GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // let the producer run into the limit
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	assert.Equal(t, int64(1<<20), n)
	<-done
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, maxSeen, limit, "the producer never has more than the limit unsent")
}

func TestDetachClientGoneFailsWrites(t *testing.T) {
	started := make(chan engine.Stream, 1)
	result := make(chan error, 1)
	h := &detachHandler{run: func(s engine.Stream) {
		started <- s
		<-s.Context().Done()
		// The EOF cancels the context, but only a failed send tells a
		// closed client from a half-closed one that still reads: the
		// first writes may be taken, a later one fails.
		for {
			if _, err := s.Write([]byte("x")); err != nil {
				result <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}}
	addr := startOffloadWorker(t, h, 64<<10)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = io.WriteString(c, "GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	<-started
	c.Close()
	select {
	case err := <-result:
		assert.ErrorIs(t, err, ErrClientGone)
	case <-time.After(10 * time.Second):
		t.Fatal("the producer's context was not cancelled when the client left")
	}
}

func TestDetachOutsideWorkerRefused(t *testing.T) {
	var r http1.Response
	assert.ErrorIs(t, engine.Detach(&r, func(engine.Stream) {}), engine.ErrNotDetachable)
}

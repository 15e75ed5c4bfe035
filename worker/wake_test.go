package worker

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// startQuietWorker runs one worker whose timer practically never fires: it
// wakes only for I/O and for the offload eventfd, so a lost wakeup (a post
// or a pool kick that nobody signals) hangs the test instead of being
// picked up by the next tick. disable510 runs the Linux 5.10 path.
func startQuietWorker(t *testing.T, h engine.Handler, pool *engine.Pool, maxPending int, disable510 bool) string {
	t.Helper()
	fds, addr, err := engine.Listen("127.0.0.1:0", 1, 128)
	require.NoError(t, err)
	w, err := New(Config{
		Config: engine.Config{
			Handler: h, Offload: pool,
			Limits:           http1.DefaultLimits,
			MaxConns:         64,
			MaxPendingOutput: maxPending,
			HeaderTimeout:    time.Hour, BodyTimeout: time.Hour,
			IdleTimeout: time.Hour, WriteTimeout: time.Hour,
		},
		CPU: -1, Listener: fds[0],
		Tick: time.Hour, RingEntries: 64, RecvBufferSize: 4096, RecvBuffers: 16,
		DisableMultishot: disable510, DisableBufRing: disable510, DisableShutdownOp: disable510,
		RawWait: !disable510,
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

// Rounds of simultaneous blocking responses: in each round every client
// sends one request and waits for its answer, and no client sends the next
// one before all answers of the round are in. Between rounds nothing but the
// offload path can wake the worker (no tick, no traffic), so a lost wakeup
// (of the worker by a post, or of the pool's dispatcher by a kick) hangs the
// round and the client deadline fails the test. The producers mix every way
// a wake can be due: plain writes (woken at once), corked writes and
// Finish (woken late, after a yield), pieces with a yield between them, and
// producers that finish while the worker is awake draining the others.
func TestOffloadDeferredWakeups(t *testing.T) {
	for _, mode := range []struct {
		name string
		d510 bool
	}{{"6.x", false}, {"5.10", true}} {
		t.Run(mode.name, func(t *testing.T) {
			const conns, rounds = 12, 150
			h := &detachHandler{run: func(es engine.Stream) {
				s := es.(*Stream)
				q := string(s.Request().Query)
				n, _ := strconv.Atoi(q)
				body := "r" + q
				head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
				switch n % 4 {
				case 0: // one corked write, then Finish
					s.Cork()
					s.Write([]byte(head + body))
				case 1: // a plain write, a yield, a corked tail
					s.Write([]byte(head))
					runtime.Gosched()
					s.Cork()
					s.Write([]byte(body))
				case 2: // pieces, never corked
					s.Write([]byte(head))
					time.Sleep(time.Duration(n%3) * 20 * time.Microsecond)
					s.Write([]byte(body))
				case 3: // corked, after a short wait
					time.Sleep(50 * time.Microsecond)
					s.Cork()
					s.Write([]byte(head))
					s.Write([]byte(body))
				}
				s.Finish(false)
			}}
			addr := startQuietWorker(t, h, engine.NewPool(conns, conns), 64<<10, mode.d510)
			type client struct {
				c  net.Conn
				br *bufio.Reader
			}
			cs := make([]client, conns)
			for i := range cs {
				c, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				cs[i] = client{c, bufio.NewReader(c)}
			}
			for r := 0; r < rounds; r++ {
				var wg sync.WaitGroup
				errs := make(chan error, conns)
				for i := range cs {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						c := cs[i]
						c.c.SetDeadline(time.Now().Add(20 * time.Second))
						q := strconv.Itoa(r*conns + i)
						if _, err := fmt.Fprintf(c.c, "GET /raw?%s HTTP/1.1\r\nHost: x\r\n\r\n", q); err != nil {
							errs <- err
							return
						}
						resp, err := http.ReadResponse(c.br, nil)
						if err != nil {
							errs <- fmt.Errorf("round %d client %d: %w (a lost wakeup?)", r, i, err)
							return
						}
						b, err := io.ReadAll(resp.Body)
						if err != nil || string(b) != "r"+q {
							errs <- fmt.Errorf("round %d client %d: body %q, %v", r, i, b, err)
						}
					}(i)
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
			}
		})
	}
}

// A corked response bigger than the connection's output limit blocks in
// Write before Finish: the wake its first bytes left owed must be paid
// before the producer waits for room (reserve), or neither side moves.
func TestOffloadCorkedWriteOverLimit(t *testing.T) {
	const limit = 16 << 10
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	h := &detachHandler{run: func(es engine.Stream) {
		s := es.(*Stream)
		s.Cork()
		s.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
		s.Write(body)
		s.Finish(false)
	}}
	addr := startQuietWorker(t, h, engine.NewPool(2, 2), limit, false)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		_, err = io.WriteString(c, "GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err, "a corked write over the limit stalled")
		assert.Equal(t, body, got)
	}
}

// The inbox handshake allocates nothing per post once its buffers are
// warm: a post, the deferred wake's yield and pay, the drain before the
// wait, and the sleeping flag (no eventfd is written: the worker here is
// not sleeping, or the drain took the posts first).
func TestOffloadInboxAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	w := &Worker{efd: -1}       // a stray eventfd write fails (EBADF) instead of reaching fd 0
	s := &Stream{w: w, slot: 7} // no such connection: deliver drops the posts
	round := func() {
		if owe, tok := w.post(post{s: s, fin: true}, true); owe {
			w.payWake(tok)
		}
		w.post(post{s: s, resume: true}, false)
		w.drainOffload(false)
		w.off.mu.Lock()
		w.off.sleeping = true
		w.off.mu.Unlock()
		// Sleeping: this post owes the wake, and the drain below clears
		// the debt before it would be paid.
		owe, tok := w.post(post{s: s, fin: true}, true)
		require.True(t, owe)
		w.drainOffload(false)
		w.payWake(tok) // stale: writes nothing
		w.off.mu.Lock()
		w.off.sleeping = false
		require.Equal(t, wakeNone, w.off.wake)
		w.off.mu.Unlock()
	}
	round()
	assert.Zero(t, testing.AllocsPerRun(200, round))
}

package uringd_test

import (
	"bytes"
	"fmt"
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
	"github.com/uringd/uringd"
)

// Input memory: what a client declares costs nothing until it sends it, a
// worker's buffered bodies have a budget, and buffered input survives a
// half-close.

// A Content-Length up to a MaxBody above 2 GiB once made the worker ask its
// pool for a buffer of the whole body at the head, and the pool panicked on
// the worker goroutine: the process died.
func TestHugeContentLengthOverTwoGiBDoesNotCrash(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxBody = 3 << 30
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(3<<30) + "\r\n\r\n")
		c.send(strings.Repeat("b", 64<<10))
		code, body, _ := get(t, newClient(t, 1), baseURL(s)+"/")
		require.Equal(t, 200, code)
		require.Equal(t, "Hello, World!", body)
		c.send(strings.Repeat("b", 64<<10)) // the first connection is still served
	})
}

// A head declaring a 4 MiB body once reserved 8 MiB at once; the input
// buffer now grows with the bytes that arrive.
func TestDeclaredBodyReservesOnlyWhatArrived(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		if cfg.Engine != uringd.EngineIOUring {
			t.Skip("the io_uring worker's buffer accounting")
		}
		cfg.Workers = 1
		s := startServer(t, cfg)
		c := dial(t, s)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc") // warm the small classes
		c.send(strings.Repeat("d", 97))
		_, body := c.response("POST")
		require.Len(t, body, 100)
		before := s.Stats().Total

		const n = 4 << 20
		head := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
		c.send(head + strings.Repeat("e", 1000))
		require.Eventually(t, func() bool {
			return s.Stats().Total.BytesIn >= before.BytesIn+uint64(len(head)+1000)
		}, 5*time.Second, time.Millisecond)
		after := s.Stats().Total
		grown := int64(after.BufferBytesMapped) - int64(before.BufferBytesMapped)
		t.Logf("mapped before %d, after the head %d (+%d)", before.BufferBytesMapped, after.BufferBytesMapped, grown)
		assert.Less(t, grown, int64(2<<20), "memory mapped for a head that declares 4 MiB")

		body1 := bytes.Repeat([]byte("e"), n)
		_, err := c.Write(body1[1000:])
		require.NoError(t, err)
		resp, got := c.response("POST")
		require.Equal(t, 200, resp.StatusCode)
		require.True(t, string(body1) == got, "echo of the 4 MiB body")
	})
}

// A body of 2 MiB in 1-byte chunks is 12 MiB on the wire; MaxBody counts
// the decoded bytes, so it is within a MaxBody of 4 MiB.
func TestTinyChunksCountDecodedBytesAgainstMaxBody(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxBody = 4 << 20
		s := startServer(t, cfg)
		const n = 2 << 20
		var wire bytes.Buffer
		wire.WriteString("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		want := make([]byte, n)
		for i := range want {
			want[i] = 'a' + byte(i%26)
			wire.WriteString("1\r\n")
			wire.WriteByte(want[i])
			wire.WriteString("\r\n")
		}
		wire.WriteString("0\r\n\r\n")
		c := dial(t, s)
		go c.Write(wire.Bytes())
		resp, got := c.response("POST")
		require.Equal(t, 200, resp.StatusCode)
		require.Len(t, got, n)
		require.True(t, string(want) == got, "echo")
	})
}

// Framing is bounded too: with the framing compacted away, a body that is
// mostly chunk extensions would otherwise be read for ever.
func TestChunkFramingCannotGrowWithoutBound(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxBody = 1 << 20
		s := startServer(t, cfg)
		c := dial(t, s)
		go func() {
			io.WriteString(c.Conn, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := "1;" + strings.Repeat("e", 4000) + "\r\nz\r\n"
			for i := 0; i < 2000; i++ { // 2000 body bytes in 8 MB
				if _, err := io.WriteString(c.Conn, chunk); err != nil {
					return
				}
			}
		}()
		resp, _ := c.response("POST")
		require.Equal(t, 413, resp.StatusCode)
	})
}

// Past the worker's budget for buffered request bodies a request gets 503
// and the connection closes; the requests within it are served.
func TestBodyBufferBudgetGives503(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.Workers = 1
		cfg.MaxBody = 8 << 20
		cfg.MaxBodyBufferPerWorker = 4 << 20
		s := startServer(t, cfg)
		const n = 3 << 19 // 1.5 MiB: each of two such bodies fills a 2 MiB buffer
		body := bytes.Repeat([]byte("q"), n)
		head := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
		in0 := s.Stats().Total.BytesIn
		var held []*rawConn
		for i := 0; i < 2; i++ {
			c := dial(t, s)
			c.send(head)
			_, err := c.Write(body[:n-1])
			require.NoError(t, err)
			held = append(held, c)
		}
		require.Eventually(t, func() bool {
			return s.Stats().Total.BytesIn >= in0+2*uint64(len(head)+n-1)
		}, 10*time.Second, time.Millisecond)

		c := dial(t, s)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n")
		go c.Write(make([]byte, 300000))
		resp, _ := c.response("POST")
		require.Equal(t, 503, resp.StatusCode)
		require.True(t, resp.Close)
		assert.NotZero(t, s.Stats().Total.BodyBufferFull)

		for _, h := range held {
			h.send("q")
			resp, got := h.response("POST")
			require.Equal(t, 200, resp.StatusCode)
			require.True(t, string(body) == got)
		}
		code, _, _ := get(t, newClient(t, 1), baseURL(s)+"/")
		require.Equal(t, 200, code)
	})
}

// Requests pipelined behind large responses wait unparsed while the
// connection is paused for backpressure; a client that then shuts down its
// write side still gets every answer (it once got 2 of 40).
func TestHalfCloseAfterPipelinedRequestsUnderBackpressure(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.MaxPendingOutput = 64 << 10
		s := startServer(t, cfg)
		c := dial(t, s)
		const n = 40
		c.send(strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", n))
		require.NoError(t, c.Conn.(*net.TCPConn).CloseWrite())
		for i := 0; i < n; i++ {
			resp, body := c.response("GET")
			require.Equal(t, 200, resp.StatusCode, "response %d", i)
			require.True(t, string(bigBody) == body, "response %d", i)
		}
		c.expectClosed()
	})
}

// With classic provided buffers (no buffer ring) an old kernel holds a
// buffer for each armed recv while it waits: more idle connections than the
// group holds once drained it, and the worker spun on ENOBUFS. Every one of
// them must be served when it speaks.
func TestIdleConnectionsBeyondProvidedBufferGroup(t *testing.T) {
	for _, multishot := range []bool{false, true} {
		t.Run(fmt.Sprintf("multishot=%v", multishot), func(t *testing.T) {
			cfg := testConfig(uringd.TestMode{Cfg: uringd.Config{DisableMultishot: !multishot, DisableBufRing: true}})
			cfg.Logger = testLogger(t)
			cfg.Workers = 1
			cfg.RecvBuffers = 16
			s := startServer(t, cfg)
			const n = 100
			conns := make([]*rawConn, n)
			for i := range conns {
				conns[i] = dial(t, s)
				conns[i].send(helloReq)
				_, body := conns[i].response("GET")
				require.Equal(t, "Hello, World!", body)
			}
			require.Eventually(t, func() bool { return s.Stats().Total.Open == n }, 5*time.Second, time.Millisecond)
			loops := s.Stats().Total.Loops
			time.Sleep(200 * time.Millisecond) // all idle
			idleLoops := s.Stats().Total.Loops - loops
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := io.WriteString(c.Conn, helloReq)
					if !assert.NoError(t, err) {
						return
					}
					resp, err := http.ReadResponse(c.br, nil)
					if !assert.NoError(t, err, "connection %d", i) {
						return
					}
					b, _ := io.ReadAll(resp.Body)
					assert.Equal(t, "Hello, World!", string(b), "connection %d", i)
				}()
			}
			wg.Wait()
			st := s.Stats().Total
			t.Logf("loops while idle: %d; ENOBUFS %d, recv errors %d", idleLoops, st.NoBufs, st.RecvErrors)
			assert.Less(t, idleLoops, uint64(1000), "the worker does not spin while idle") // a tick is 10ms: ~20 turns
			assert.Zero(t, st.RecvErrors)
			assert.Zero(t, st.RecvBuffersHeld, "receive buffers not given back")
			if !multishot {
				// A single-shot recv takes at most one buffer, and no more
				// of them are armed than the group holds: never ENOBUFS.
				assert.Zero(t, st.NoBufs, "recvs armed on an empty group")
			}
		})
	}
}

// Recvs that end in an error or a cancel give back the buffer they
// selected: after many more such ends than the group holds, requests are
// still served and no buffer is missing.
func TestRecvErrorsAndCancelsReturnTheirBuffers(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		if cfg.Engine != uringd.EngineIOUring {
			t.Skip("io_uring receive buffers")
		}
		cfg.Workers = 1
		cfg.RecvBuffers = 8
		cfg.MaxPendingOutput = 4096 // pauses (and so cancels) on every big response
		s := startServer(t, cfg)
		for i := 0; i < 40; i++ {
			c, err := net.Dial("tcp", s.Addr().String())
			require.NoError(t, err)
			if i%2 == 1 {
				io.WriteString(c, strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 4))
				time.Sleep(5 * time.Millisecond)
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST: the armed recv fails
			c.Close()
		}
		require.Eventually(t, func() bool { return s.Stats().Total.Open == 0 }, 5*time.Second, time.Millisecond)
		st := s.Stats().Total
		assert.Zero(t, st.RecvBuffersHeld, "receive buffers not given back")
		c := newClient(t, 8)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := c.Get(baseURL(s) + "/big")
				if assert.NoError(t, err) {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					assert.Equal(t, len(bigBody), len(b))
				}
			}()
		}
		wg.Wait()
	})
}

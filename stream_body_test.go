package uringd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame returns body framed as Content-Length or chunked (random chunk
// sizes, a trailer), and the head that goes with it.
func frame(path string, body []byte, chunked bool) (head string, wire []byte) {
	if !chunked {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, len(body)), body
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for len(body) > 0 {
		n := min(1+rng.IntN(100_000), len(body))
		wire = fmt.Appendf(wire, "%x\r\n", n)
		wire = append(append(wire, body[:n]...), "\r\n"...)
		body = body[n:]
	}
	wire = append(wire, "0\r\nX-Trailer: 1\r\n\r\n"...)
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", path), wire
}

// digest reads r to its end, telling started when the first bytes are in,
// and answers "length sha256".
func digest(r io.Reader, started chan<- struct{}) (string, error) {
	h := sha256.New()
	first := make([]byte, 1)
	n, err := io.ReadFull(r, first)
	if err != nil {
		return "", err
	}
	started <- struct{}{}
	h.Write(first)
	m, err := io.Copy(h, r)
	return fmt.Sprintf("%d %x", int64(n)+m, h.Sum(nil)), err
}

func streamRoutes(s *Server, started chan struct{}) {
	s.Handle("/up/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := digest(r.Body, started)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, d)
	})))
	s.Handle("POST /blk", Blocking(StreamingBody(BlockingHandlerFunc(
		func(ctx context.Context, w ResponseWriter, r *Request) {
			d, err := digest(Body(ctx, r), started)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			io.WriteString(w, d)
		}))))
	s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
}

// The handler reads the body while the client is still sending it (the
// client waits for the handler before sending the rest), the body arrives
// intact, and the request pipelined behind it is answered after it.
func TestStreamedBodyReachesHandlerBeforeItEnds(t *testing.T) {
	body := make([]byte, 8<<20)
	for i := range body {
		body[i] = byte(i*7 + i>>12)
	}
	want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, path := range []string{"/up/x", "/blk"} {
			for _, chunked := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/chunked=%v", path[1:], chunked), func(t *testing.T) {
					started := make(chan struct{}, 1)
					cfg := m.Cfg
					cfg.MaxBody = 64 << 20
					s := startEngine(t, m, cfg, func(s *Server) { streamRoutes(s, started) })
					c := dialRaw(t, s)
					head, wire := frame(path, body, chunked)
					_, err := c.Write(append([]byte(head), wire[:1000]...))
					require.NoError(t, err)
					select {
					case <-started:
					case <-time.After(10 * time.Second):
						t.Fatal("the handler was not called before the body ended")
					}
					_, err = c.Write(append(wire[1000:], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"...))
					require.NoError(t, err)
					resp, got := c.read(t, "POST")
					require.Equal(t, 200, resp.StatusCode, got)
					assert.Equal(t, want, got)
					resp, got = c.read(t, "GET")
					assert.Equal(t, 200, resp.StatusCode)
					assert.Equal(t, "hello", got)
				})
			}
		}
	})
}

// A handler that answers without reading the body: its response arrives;
// a body of at most 256 KiB left is read and dropped by the server and the
// connection goes on (as with net/http), a longer one closes it (the next
// request's start is unknown).
func TestStreamedBodyUnread(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, m.Cfg, func(s *Server) {
			s.Handle("/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "not reading")
			})))
			s.HandleFunc("GET /hello", func(w *Response, r *Request) { w.WriteString("hello") })
		})
		c := dialRaw(t, s)
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc")
		require.NoError(t, err)
		resp, got := c.read(t, "POST")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "not reading", got)
		_, err = io.WriteString(c, strings.Repeat("b", 100000-3)+"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, got = c.read(t, "GET")
		assert.Equal(t, "hello", got, "the rest of a small body was dropped, the connection kept")

		_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
		require.NoError(t, err)
		resp, got = c.read(t, "POST")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "not reading", got)
		var b [1]byte
		_, err = c.br.Read(b[:])
		require.Error(t, err, "the connection is closed")
	})
}

// A client that leaves in the middle of its body, or stalls past the body
// timeout: the handler's read fails (never a clean EOF on a short body).
func TestStreamedBodyClientGoneOrStalled(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, stall := range []bool{false, true} {
			t.Run(fmt.Sprintf("stall=%v", stall), func(t *testing.T) {
				readErr := make(chan error, 1)
				cfg := m.Cfg
				cfg.BodyTimeout = 300 * time.Millisecond
				s := startEngine(t, m, cfg, func(s *Server) {
					s.Handle("/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						_, err := io.Copy(io.Discard, r.Body)
						readErr <- err
					})))
				})
				c := dialRaw(t, s)
				_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"+
					strings.Repeat("a", 5000))
				require.NoError(t, err)
				if !stall {
					time.Sleep(50 * time.Millisecond)
					c.Close()
				}
				select {
				case err := <-readErr:
					require.Error(t, err)
					assert.False(t, errors.Is(err, io.EOF), "a short body must not read as complete: %v", err)
				case <-time.After(10 * time.Second):
					t.Fatal("the handler's read did not fail")
				}
			})
		}
	})
}

// A body much bigger than the server's window goes through a handler that
// reads slowly without the server's memory growing with it.
func TestStreamedBodyMemoryBounded(t *testing.T) {
	const size = 96 << 20
	ForEachMode(t, func(t *testing.T, m TestMode) {
		cfg := m.Cfg
		cfg.MaxBody = 1 << 30
		s := startEngine(t, m, cfg, func(s *Server) {
			s.Handle("/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := make([]byte, 256<<10)
				n := 0
				for {
					k, err := r.Body.Read(p)
					n += k
					if err != nil {
						fmt.Fprintf(w, "%d %v", n, err)
						return
					}
					time.Sleep(50 * time.Microsecond)
				}
			})))
		})
		before := rssKiB()
		require.Positive(t, before)
		peak := before
		done, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			for {
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
					peak = max(peak, rssKiB())
				}
			}
		}()
		req, err := http.NewRequest("POST", "http://"+s.Addr().String()+"/", io.LimitReader(zeros{}, size))
		require.NoError(t, err)
		req.ContentLength = size
		resp, err := http.DefaultClient.Do(req)
		close(done)
		<-sampled
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, strconv.Itoa(size)+" EOF", string(got))
		assert.Less(t, peak-before, int64(32<<10), "RSS grew by %d KiB for a %d MiB body", peak-before, size>>20)
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// rssKiB is this process's resident set (VmRSS), or 0 if unreadable.
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	i := bytes.Index(b, []byte("VmRSS:"))
	if err != nil || i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+6:]))
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

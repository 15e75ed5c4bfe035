package uringd_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// Randomized clients: random mixes of GET, HEAD, Content-Length and chunked
// uploads and large responses, pipelined in random numbers, written in
// random fragments, sometimes abandoned halfway. Every answer must match,
// and when the clients are gone the server holds no connection and no
// buffer (leak check) and never saw a stale CQE. The seed is logged.
func TestRandomizedClients(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		var wg sync.WaitGroup
		for g := 0; g < 12; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(g)))
				for iter := 0; iter < 25; iter++ {
					if err := randomConversation(s.Addr().String(), rng); err != nil {
						t.Errorf("client %d conversation %d (seed %d): %v", g, iter, seed, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.Logf("server stats: %+v", s.Stats().Total)
		}
		if cfg.Engine != uringd.EngineIOUring {
			return
		}
		require.Eventually(t, func() bool {
			st := s.Stats().Total
			return st.Open == 0 && st.BuffersInUse == 0
		}, 5*time.Second, 10*time.Millisecond, "connections and buffers released: %+v", s.Stats().Total)
		assert.Zero(t, s.Stats().Total.StaleCQEs)
	})
}

type expected struct {
	method string
	body   []byte
}

// randomConversation makes one connection's worth of pipelined requests.
func randomConversation(addr string, rng *rand.Rand) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var wire []byte
	var want []expected
	for i, n := 0, 1+rng.IntN(8); i < n; i++ {
		var e expected
		wire, e = appendRandomRequest(wire, rng)
		want = append(want, e)
	}
	abandon := rng.IntN(8) == 0
	if abandon {
		wire = wire[:rng.IntN(len(wire))]
	}
	go writeFragmented(c, wire, rng.Uint64())
	if abandon {
		time.Sleep(time.Millisecond)
		return nil
	}
	br := bufio.NewReader(c)
	for i, e := range want {
		resp, err := http.ReadResponse(br, &http.Request{Method: e.method})
		if err != nil {
			return fmt.Errorf("response %d/%d: %w", i, len(want), err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("response %d body: %w", i, err)
		}
		if resp.StatusCode != 200 || !bytes.Equal(got, e.body) {
			return fmt.Errorf("response %d (%s): status %d, %d body bytes, want %d", i, e.method, resp.StatusCode, len(got), len(e.body))
		}
	}
	return nil
}

func appendRandomRequest(b []byte, rng *rand.Rand) ([]byte, expected) {
	switch rng.IntN(5) {
	case 0:
		return append(b, helloReq...), expected{"GET", []byte("Hello, World!")}
	case 1:
		return append(b, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"...), expected{"HEAD", []byte{}}
	case 2:
		return append(b, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"...), expected{"GET", bigBody}
	}
	body := make([]byte, rng.IntN(20000))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	b = append(b, "POST /echo HTTP/1.1\r\nHost: x\r\n"...)
	if rng.IntN(2) == 0 {
		b = append(b, "Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"...)
		return append(b, body...), expected{"POST", body}
	}
	b = append(b, "Transfer-Encoding: chunked\r\n\r\n"...)
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(5000))
		b = strconv.AppendInt(b, int64(n), 16)
		b = append(b, "\r\n"...)
		b = append(append(b, rest[:n]...), "\r\n"...)
		rest = rest[n:]
	}
	return append(b, "0\r\n\r\n"...), expected{"POST", body}
}

// writeFragmented writes b in random pieces, now and then pausing so that
// pieces arrive in separate receives.
func writeFragmented(c net.Conn, b []byte, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(3000))
		if _, err := c.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
		if rng.IntN(4) == 0 {
			time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
		}
	}
}

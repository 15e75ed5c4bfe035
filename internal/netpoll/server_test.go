package netpoll

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// testHandler answers "/d..." through Detach (raw bytes written by the
// stream) and everything else inline with the path.
type testHandler struct{}

func (testHandler) ServeHTTP(w *http1.Response, r *http1.Request) {
	if strings.HasPrefix(string(r.Path), "/d") {
		if err := engine.Detach(w, func(s engine.Stream) {
			body := "detached " + string(s.Request().Path) + " " + strconv.FormatBool(s.RemoteAddr() != "")
			s.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
			s.Finish(false)
		}); err != nil {
			panic(err)
		}
		return
	}
	w.Write(r.Path)
}

func startTest(t *testing.T) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := New(Config{
		Handler: testHandler{}, Offload: engine.NewPool(4, 4), Limits: http1.DefaultLimits, MaxPendingOutput: 1 << 20,
		HeaderTimeout: 5 * time.Second, BodyTimeout: 5 * time.Second,
		IdleTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
	})
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx))
		assert.ErrorIs(t, <-served, engine.ErrServerClosed)
	})
	return s, ln.Addr().String()
}

func TestPipelinedInlineAndDetachedInOrder(t *testing.T) {
	s, addr := startTest(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /d1 HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /d2 HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	for _, want := range []string{"/a", "detached /d1 true", "/b", "detached /d2 true"} {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, want, string(b))
	}
	st := s.Stats()
	assert.Equal(t, uint64(4), st.Requests)
	assert.Equal(t, uint64(1), st.Accepted)
}

func TestBadRequestAnsweredAndClosed(t *testing.T) {
	s, addr := startTest(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	assert.Equal(t, 400, resp.StatusCode)
	assert.True(t, resp.Close)
	assert.Equal(t, uint64(1), s.Stats().BadRequests)
}

func TestShutdownClosesIdleConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := New(Config{Handler: testHandler{}, Offload: engine.NewPool(4, 4), Limits: http1.DefaultLimits, MaxPendingOutput: 1 << 20,
		HeaderTimeout: time.Minute, BodyTimeout: time.Minute, IdleTimeout: time.Minute, WriteTimeout: time.Minute})
	go s.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx), "the idle keep-alive connection does not hold Shutdown")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
}

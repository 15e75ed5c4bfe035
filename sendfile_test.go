package uringd

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tempFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	_, err := rand.Read(data)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path, data
}

// io.Copy of a file into a blocking handler's ResponseWriter, and
// http.ServeContent in a net/http handler (a range too), go out with
// sendfile(2) on every engine: the bytes arrive intact, in order with the
// pipelined requests around them, and Stats count them as sent from files.
func TestSendFileFromHandlers(t *testing.T) {
	path, data := tempFile(t, 3<<20+123)
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, Config{}, func(s *Server) {
			s.Handle("GET /copy", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				f, err := os.Open(path)
				if err != nil {
					panic(err)
				}
				defer f.Close()
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				n, err := io.Copy(w, f)
				if err != nil || n != int64(len(data)) {
					panic(err)
				}
			}))
			s.Handle("GET /serve", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f, err := os.Open(path)
				if err != nil {
					panic(err)
				}
				defer f.Close()
				http.ServeContent(w, r, "f.bin", time.Time{}, f)
			})))
			s.HandleFunc("GET /small", func(w *Response, r *Request) { w.WriteString("small") })
		})
		c := dialRaw(t, s)
		_, err := io.WriteString(c, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /copy HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /serve HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-2000999\r\n\r\n"+
			"GET /small HTTP/1.1\r\nHost: x\r\n\r\n"+
			"HEAD /copy HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /serve HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		_, body := c.read(t, "GET")
		assert.Equal(t, "small", body)
		resp, body := c.read(t, "GET")
		assert.Equal(t, 200, resp.StatusCode)
		assert.True(t, bytes.Equal(data, []byte(body)), "the whole file")
		resp, body = c.read(t, "GET")
		assert.Equal(t, 206, resp.StatusCode)
		assert.True(t, bytes.Equal(data[1000:2001000], []byte(body)), "the range")
		_, body = c.read(t, "GET")
		assert.Equal(t, "small", body)
		resp, body = c.read(t, "HEAD")
		assert.Equal(t, strconv.Itoa(len(data)), resp.Header.Get("Content-Length"))
		assert.Empty(t, body)
		_, body = c.read(t, "GET")
		assert.True(t, bytes.Equal(data, []byte(body)))
		require.Eventually(t, func() bool {
			return s.Stats().Total.FileBytesOut == uint64(2*len(data)+2000000)
		}, 5*time.Second, 5*time.Millisecond, "sent from the file: %d", s.Stats().Total.FileBytesOut)
	})
}

// A client that goes away in the middle of a sendfile: the handler's copy
// fails and returns, the connection is closed, and the server shuts down
// with nothing held (the harness's leak check).
func TestSendFileClientGone(t *testing.T) {
	path, data := tempFile(t, 64<<20)
	ForEachMode(t, func(t *testing.T, m TestMode) {
		done, c := startBigCopy(t, m, Config{}, path, len(data))
		c.Close()
		select {
		case err := <-done:
			assert.Error(t, err, "the copy to a client that left fails")
		case <-time.After(20 * time.Second):
			t.Fatal("the handler's sendfile did not end after the client left")
		}
	})
}

// A client that stops reading in the middle of a sendfile: the write
// timeout ends the copy (the wait for room in the socket's buffer is
// bounded), and the handler returns an error.
func TestSendFileStalledClientTimesOut(t *testing.T) {
	path, data := tempFile(t, 64<<20)
	ForEachMode(t, func(t *testing.T, m TestMode) {
		done, c := startBigCopy(t, m, Config{WriteTimeout: 300 * time.Millisecond}, path, len(data))
		// Read no more, and keep the connection open.
		select {
		case err := <-done:
			assert.Error(t, err, "the copy to a client that stopped reading fails")
		case <-time.After(30 * time.Second):
			t.Fatal("the handler's sendfile did not end on its write timeout")
		}
		c.Close()
	})
}

// startBigCopy serves the file at path (size bytes) from a blocking
// handler's io.Copy (sendfile), requests it on a raw connection and reads
// its first MiB; the handler's copy error comes on done.
func startBigCopy(t *testing.T, m TestMode, cfg Config, path string, size int) (chan error, *rawConn) {
	done := make(chan error, 1)
	s := startEngine(t, m, cfg, func(s *Server) {
		s.Handle("GET /big", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
			f, err := os.Open(path)
			if err != nil {
				panic(err)
			}
			defer f.Close()
			w.Header().Set("Content-Length", strconv.Itoa(size))
			_, err = io.Copy(w, f)
			done <- err
		}))
	})
	c := dialRaw(t, s)
	_, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 1<<20))
	require.NoError(t, err)
	return done, c
}

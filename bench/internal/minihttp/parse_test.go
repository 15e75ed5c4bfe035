package minihttp

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextPipelinedAndPartial(t *testing.T) {
	stream := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\n\r\nhello" +
		"GET /fibonacci HTTP/1.1\r\nConnection: close\r\n\r\n")
	type want struct {
		method, path, body string
		close              bool
	}
	wants := []want{{"GET", "/", "", false}, {"POST", "/echo", "hello", false}, {"GET", "/fibonacci", "", true}}

	// Every split point: a prefix must never frame a request it does not hold.
	for cut := 0; cut <= len(stream); cut++ {
		var got []want
		buf := append([]byte(nil), stream[:cut]...)
		feed := stream[cut:]
		for {
			var req Request
			n, err := Next(buf, &req)
			require.NoError(t, err)
			if n == 0 {
				if len(feed) == 0 {
					break
				}
				buf, feed = append(buf, feed...), nil
				continue
			}
			got = append(got, want{string(req.Method), string(req.Path), string(req.Body), req.Close})
			buf = buf[n:]
		}
		assert.Equal(t, wants, got, "cut at %d", cut)
	}
}

func TestNextRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		in     string
		status int
	}{
		"chunked":      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		"bad length":   {"POST /echo HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
		"huge body":    {"POST /echo HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", 413},
		"bad version":  {"GET / HTTP/2.0\r\n\r\n", 400},
		"no colon":     {"GET / HTTP/1.1\r\nHost\r\n\r\n", 400},
		"endless head": {"GET / HTTP/1.1\r\n" + string(bytes.Repeat([]byte("a"), MaxHead)), 431},
	} {
		t.Run(name, func(t *testing.T) {
			var req Request
			_, err := Next([]byte(tc.in), &req)
			require.ErrorIs(t, err, ErrBad)
			assert.Equal(t, tc.status, req.Status)
		})
	}
}

func TestAppendRouteReadsBackWithNetHTTP(t *testing.T) {
	var req Request
	in := []byte("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
	n, err := Next(in, &req)
	require.NoError(t, err)
	require.Equal(t, len(in), n)
	out := AppendRoute(nil, &req, "test")
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "abc", string(body))
	assert.NotEmpty(t, resp.Header.Get("Date"))
}

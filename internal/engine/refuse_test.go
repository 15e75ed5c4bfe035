package engine

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd/http1"
)

// The first bytes of a request line look like HTTP, a ClientHello's and
// other bytes do not.
func TestLooksLikeHTTP(t *testing.T) {
	for _, b := range []string{"GET / HTTP/1.1\r\n", "POST ", "OPTIO", "G", "PROPFIND /x"} {
		assert.True(t, LooksLikeHTTP([]byte(b)), "%q", b)
	}
	for _, b := range []string{"", " GET", "get / HTTP/1.1", "\x16\x03\x01\x02\x00", "GET\x00", "ABCDEFGHIJKLMNOPQ "} {
		assert.False(t, LooksLikeHTTP([]byte(b)), "%q", b)
	}
}

// The cleartext 400 and a refusal are well-framed responses net/http's
// client reads, appended after what dst held.
func TestRefusalsFrame(t *testing.T) {
	var dc http1.DateCache
	out := AppendPlainHTTPOnTLS([]byte("before"), dc.Bytes())
	require.True(t, bytes.HasPrefix(out, []byte("before")))
	var r http1.Response
	r.Reset(out, nil, nil)
	FrameRefusal(&r, 431)
	out = r.Finish()

	br := bufio.NewReader(bytes.NewReader(out[len("before"):]))
	for _, want := range []struct {
		status int
		body   string
	}{{400, "Client sent an HTTP request to an HTTPS server.\n"}, {431, "Request Header Fields Too Large\n"}} {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, want.status, resp.StatusCode)
		assert.Equal(t, want.body, string(body))
		assert.True(t, resp.Close, "Connection: close")
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	}
	_, err := br.ReadByte()
	assert.Equal(t, io.EOF, err, "nothing after the two responses")
}

package http1

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCloneOutlivesTheBuffer(t *testing.T) {
	buf := []byte("POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-K: v\r\nContent-Length: 3\r\n\r\nabc")
	var p Parser
	p.Init(&Limits{}, make([]Header, 0, 8))
	var req Request
	n, err := p.Next(buf, &req)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	c := req.Clone()
	for i := range buf {
		buf[i] = 'Z'
	}
	require.Equal(t, "POST", string(c.Method))
	require.Equal(t, "/a/b?x=1", string(c.Target))
	require.Equal(t, "/a/b", string(c.Path))
	require.Equal(t, "x=1", string(c.Query))
	require.Equal(t, "h", string(c.Host))
	require.Equal(t, "abc", string(c.Body))
	require.Equal(t, "v", string(c.Header("x-k")))
	require.Equal(t, int64(3), c.ContentLength)
}

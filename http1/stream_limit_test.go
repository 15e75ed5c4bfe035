package http1

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A body over MaxBody but within MaxStreamBody is parsed as a head whose
// body is to come: streamed (ReleaseBody, BodyReader) it is read; kept
// whole (KeepBody, or simply Next again) it is refused with 413.
func TestMaxStreamBodyParser(t *testing.T) {
	lim := Limits{MaxBody: 10, MaxStreamBody: 100}
	newParser := func() (*Parser, *Request) {
		var p Parser
		p.Init(&lim, make([]Header, 0, 8))
		return &p, new(Request)
	}
	body := strings.Repeat("b", 50)
	cl := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n" + body
	chunked := "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n" + body + "\r\n0\r\n\r\n"

	for _, in := range []string{cl, chunked} {
		p, req := newParser()
		_, err := p.Next([]byte(in[:len(in)-5]), req)
		require.Equal(t, ErrIncomplete, err)
		_, ok := p.HeadOnly()
		require.True(t, ok)
		assert.Equal(t, errBodyTooLarge, p.KeepBody())

		p, req = newParser()
		_, err = p.Next([]byte(in[:len(in)-5]), req)
		require.Equal(t, ErrIncomplete, err)
		_, err = p.Next([]byte(in), req)
		assert.Equal(t, errBodyTooLarge, err, "no KeepBody: Next applies MaxBody itself")

		p, req = newParser()
		buf := []byte(in[:len(in)-5])
		_, err = p.Next(buf, req)
		require.Equal(t, ErrIncomplete, err)
		headLen, ok := p.HeadOnly()
		require.True(t, ok)
		dec := p.ReleaseBody()
		fed := false
		r := NewBodyReader(req, &lim, &dec, func(dst []byte) ([]byte, error) {
			if fed {
				return append(dst, in[len(in)-5:]...), nil
			}
			fed = true
			return append(dst, buf[headLen:]...), nil
		})
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, body, string(got))
	}

	// Whole in one buffer, it is still only for a streaming caller.
	p, req := newParser()
	_, err := p.Next([]byte(cl), req)
	require.Equal(t, ErrIncomplete, err)
	assert.Equal(t, errBodyTooLarge, p.KeepBody())
	p, req = newParser()
	_, err = p.Next([]byte(chunked), req)
	assert.Equal(t, errBodyTooLarge, err, "a complete chunked body is held whole")

	// Past MaxStreamBody: refused at the head.
	p, req = newParser()
	_, err = p.Next([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"), req)
	assert.Equal(t, errBodyTooLarge, err)
	// And a chunked stream past it fails its reader.
	p, req = newParser()
	_, err = p.Next([]byte("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), req)
	require.Equal(t, ErrIncomplete, err)
	_, ok := p.HeadOnly()
	require.True(t, ok)
	dec := p.ReleaseBody()
	big := "65\r\n" + strings.Repeat("b", 101) + "\r\n0\r\n\r\n"
	r := NewBodyReader(req, &lim, &dec, func(dst []byte) ([]byte, error) {
		if len(big) == 0 {
			return dst, io.EOF
		}
		dst, big = append(dst, big...), ""
		return dst, nil
	})
	_, err = io.Copy(io.Discard, r)
	assert.Equal(t, errBodyTooLarge, err)
}

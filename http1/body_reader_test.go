package http1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// pieces is a fill that hands out src a few bytes at a time (sizes cycle
// through sizes), then io.EOF.
func pieces(src []byte, sizes ...int) func(dst []byte) ([]byte, error) {
	f, _ := piecesLeft(src, sizes...)
	return f
}

// piecesLeft is pieces, plus what the fill has not handed out yet.
func piecesLeft(src []byte, sizes ...int) (func(dst []byte) ([]byte, error), func() []byte) {
	i := 0
	return func(dst []byte) ([]byte, error) {
		if len(src) == 0 {
			return dst, io.EOF
		}
		n := min(sizes[i%len(sizes)], len(src))
		i++
		dst = append(dst, src[:n]...)
		src = src[n:]
		return dst, nil
	}, func() []byte { return src }
}

// readSmall reads r to its end with a small buffer.
func readSmall(r io.Reader, n int) ([]byte, error) {
	var out []byte
	p := make([]byte, n)
	for {
		k, err := r.Read(p)
		out = append(out, p[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// checkBodyReader: streaming a chunked body through BodyReader, however the
// bytes arrive and however small the reads, gives what ChunkedDecoder gives
// on the whole body at once: the same decoded bytes and the same rest, the
// same error status, or (the whole body incomplete) a truncated body.
func checkBodyReader(t *testing.T, body []byte) {
	var whole ChunkedDecoder
	whole.Reset(fuzzLimits.MaxBody, fuzzLimits.MaxHeaderBytes)
	in := bytes.Clone(body)
	dec, n, werr := whole.Decode(in)
	for _, sizes := range [][]int{{1}, {3, 1, 7}, {len(body) + 1}} {
		req := &Request{Chunked: true}
		fill, left := piecesLeft(bytes.Clone(body), sizes...)
		r := NewBodyReader(req, &fuzzLimits, nil, fill)
		got, err := readSmall(r, 3)
		if sizes[0] == 3 {
			// The same through WriteTo (views of the window, no copy).
			var out bytes.Buffer
			_, err = r.WriteTo(&out)
			got = append(got, out.Bytes()...)
		}
		switch {
		case werr == nil:
			require.NoError(t, err, "sizes %v", sizes)
			require.Equal(t, string(dec), string(got), "sizes %v", sizes)
			require.Equal(t, string(body[n:]), string(r.Rest())+string(left()), "sizes %v", sizes)
			require.True(t, r.Done())
		case werr == ErrIncomplete:
			// The stream may also stop at an error the whole decode
			// would reach only with more bytes; never at success.
			var he *Error
			if !errors.As(err, &he) {
				require.ErrorIs(t, err, ErrBodyTruncated, "sizes %v", sizes)
			}
		default:
			var we, ge *Error
			require.True(t, errors.As(werr, &we))
			require.True(t, errors.As(err, &ge), "sizes %v: got %v, want %v", sizes, err, werr)
			require.Equal(t, we.Status, ge.Status, "sizes %v", sizes)
		}
	}
}

func TestBodyReaderChunked(t *testing.T) {
	for _, s := range []string{
		"0\n\n",
		"5\nhello\n0\n\n",
		"5;a=b\nhello\n3 ;x\nabc\n0\nT: v\n\n",
		"1\nx\n0\n\nGET / HTTP/1.1\nHost: h\n\n", // a pipelined request follows
		"5\nhel",                                 // truncated
		"5\nhelloXX0\n\n",                        // bad chunk end
		"zz\n",                                   // bad size
	} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) { checkBodyReader(t, crlf(s)) })
	}
}

func TestBodyReaderContentLength(t *testing.T) {
	req := &Request{ContentLength: 11}
	r := NewBodyReader(req, &DefaultLimits, nil, pieces([]byte("hello worldGET / HTTP/1.1\r\n"), 4))
	got, err := readSmall(r, 3)
	require.NoError(t, err)
	require.Equal(t, "hello world", string(got))
	require.True(t, r.Done())
	require.Equal(t, "G", string(r.Rest()), "the rest of the last piece follows the body")

	// Truncated: the client goes away 3 bytes short.
	r = NewBodyReader(req, &DefaultLimits, nil, pieces([]byte("hello wo"), 5))
	got, err = readSmall(r, 64)
	require.ErrorIs(t, err, ErrBodyTruncated)
	require.Equal(t, "hello wo", string(got))
	require.False(t, r.Done())

	// No body at all.
	r = NewBodyReader(&Request{ContentLength: -1}, &DefaultLimits, nil, pieces(nil, 1))
	got, err = readSmall(r, 8)
	require.NoError(t, err)
	require.Empty(t, got)
	require.True(t, r.Done())
}

// A body far bigger than any buffer streams through a bounded one, and the
// body limit still counts every byte.
func TestBodyReaderChunkedWindow(t *testing.T) {
	const chunk, chunks = 50_000, 200 // 10 MB
	sent := 0
	fill := func(dst []byte) ([]byte, error) {
		switch {
		case sent < chunks:
			sent++
			dst = fmt.Appendf(dst, "%x\r\n", chunk)
			dst = append(dst, bytes.Repeat([]byte{byte('a' + sent%26)}, chunk)...)
			return append(dst, "\r\n"...), nil
		case sent == chunks:
			sent++
			return append(dst, "0\r\n\r\n"...), nil
		}
		return dst, io.EOF
	}
	lim := Limits{MaxBody: 1 << 30, MaxHeaderBytes: 4096}
	r := NewBodyReader(&Request{Chunked: true}, &lim, nil, fill)
	p := make([]byte, 32<<10)
	total, maxBuf := 0, 0
	for {
		n, err := r.Read(p)
		total += n
		maxBuf = max(maxBuf, cap(r.buf))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.Equal(t, chunk*chunks, total)
	require.Less(t, maxBuf, 4*chunk, "the buffer holds about one fill, not the body")

	sent = 0
	lim.MaxBody = 3 * chunk
	r = NewBodyReader(&Request{Chunked: true}, &lim, nil, fill)
	_, err := io.Copy(io.Discard, r)
	var he *Error
	require.True(t, errors.As(err, &he), "got %v", err)
	require.Equal(t, 413, he.Status)
}

// Drain drops a small unread rest (and keeps what follows the body), but
// does not read a rest known to be bigger than DrainMax.
func TestBodyReaderDrain(t *testing.T) {
	src := append(bytes.Repeat([]byte("x"), 1000), "NEXT"...)
	r := NewBodyReader(&Request{ContentLength: 1000}, &DefaultLimits, nil, pieces(src, 300))
	p := make([]byte, 10)
	_, err := r.Read(p)
	require.NoError(t, err)
	require.True(t, r.Drain())
	require.Equal(t, "NEXT", string(r.Rest()))

	fills := 0
	count := func(dst []byte) ([]byte, error) { fills++; return append(dst, 'x'), nil }
	r = NewBodyReader(&Request{ContentLength: DrainMax + 1}, &DefaultLimits, nil, count)
	require.False(t, r.Drain())
	require.Zero(t, fills, "a rest over DrainMax is not read")
}

// WriteTo hands out views of the window (no copy into a buffer of the
// caller's), and works with a fill that gives back another buffer each time
// (the worker swaps its window with the reader's); a Content-Length body
// ends at its length, the bytes after it kept as Rest.
func TestBodyReaderWriteTo(t *testing.T) {
	src := []byte("0123456789abcdefghijGET /")
	var handed [][]byte
	i := 0
	fill := func(dst []byte) ([]byte, error) {
		if i >= len(src) {
			return dst, io.EOF
		}
		n := min(7, len(src)-i)
		b := append(make([]byte, 0, 16), src[i:i+n]...) // a new buffer, not dst
		i += n
		handed = append(handed, b)
		return b, nil
	}
	r := NewBodyReader(&Request{ContentLength: 20}, &DefaultLimits, nil, fill)
	var views [][]byte
	n, err := r.WriteTo(writerFunc(func(p []byte) (int, error) {
		views = append(views, p)
		return len(p), nil
	}))
	require.NoError(t, err)
	require.EqualValues(t, 20, n)
	require.True(t, r.Done())
	require.Equal(t, "G", string(r.Rest()), "the rest of the last piece follows the body")
	var got []byte
	for k, v := range views {
		require.Same(t, &handed[k][0], &v[0], "view %d is the fill's buffer itself", k)
		got = append(got, v...)
	}
	require.Equal(t, string(src[:20]), string(got))

	// A writer that fails stops WriteTo with its error.
	i = 0
	r = NewBodyReader(&Request{ContentLength: 20}, &DefaultLimits, nil, fill)
	boom := errors.New("boom")
	_, err = r.WriteTo(writerFunc(func(p []byte) (int, error) { return 0, boom }))
	require.ErrorIs(t, err, boom)

	// Truncated: the fill's EOF before the end.
	r = NewBodyReader(&Request{ContentLength: 100}, &DefaultLimits, nil, pieces([]byte("short"), 2))
	n, err = r.WriteTo(io.Discard)
	require.ErrorIs(t, err, ErrBodyTruncated)
	require.EqualValues(t, 5, n)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

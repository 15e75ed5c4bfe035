package http1

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestResponseReuseMatchesFresh: a Response reused across requests (whose
// body starts after a gap the size of its last head, and whose head may be
// the last one reused) writes exactly the bytes a fresh Response writes,
// whatever the sequence: heads longer, shorter and equal to the last,
// HEAD, bodiless statuses, streamed heads, output appended after earlier
// responses and grown past its buffer. Every response is also read back
// with net/http's reader.
func TestResponseReuseMatchesFresh(t *testing.T) {
	reqs := map[string]*Request{
		"get":   parseReq(t, "GET / HTTP/1.1\nHost: h\n\n"),
		"head":  parseReq(t, "HEAD / HTTP/1.1\nHost: h\n\n"),
		"close": parseReq(t, "GET / HTTP/1.1\nHost: h\nConnection: close\n\n"),
		"ka10":  parseReq(t, "GET / HTTP/1.0\nConnection: keep-alive\n\n"),
	}
	names := []string{"get", "get", "get", "head", "close", "ka10"}
	dates := [][]byte{[]byte(testDate), []byte("Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n"), nil}
	rng := rand.New(rand.NewPCG(5, 6))
	var reused Response
	for round := 0; round < 3000; round++ {
		name := names[rng.IntN(len(names))]
		req := reqs[name]
		status := []int{200, 200, 200, 404, 204, 304, 500}[rng.IntN(7)]
		ctype := []string{"text/plain", "text/plain", "application/json", ""}[rng.IntN(4)]
		date := dates[rng.IntN(len(dates))]
		bodyLen := []int{13, 13, 0, 1, 100, 3000}[rng.IntN(6)]
		body := bytes.Repeat([]byte{'a' + byte(round%26)}, bodyLen)
		hdr := rng.IntN(3)
		stream := rng.IntN(8) == 0
		// Pipelined: this response follows earlier ones in the buffer,
		// which is sometimes too small for it.
		prefix := bytes.Repeat([]byte("p"), rng.IntN(300))
		size := []int{64, 512, 4096}[rng.IntN(3)]

		write := func(w *Response) ([]byte, int64, bool) {
			dst := append(make([]byte, 0, max(size, len(prefix))), prefix...)
			w.Reset(dst, req, date)
			w.SetStatus(status)
			if ctype != "" {
				w.SetContentType(ctype)
			}
			for i := 0; i < hdr; i++ {
				require.NoError(t, w.AddHeader("X-N", strings.Repeat("v", 1+i*7)))
			}
			w.Write(body[:bodyLen/2])
			w.WriteString(string(body[bodyLen/2:]))
			if stream {
				out, _ := w.FinishStream()
				return out, -1, w.WillClose()
			}
			return w.Finish(), w.BodySent(), w.WillClose()
		}
		var fresh Response
		want, wantSent, wantClose := write(&fresh)
		got, gotSent, gotClose := write(&reused)
		require.Equal(t, string(want), string(got), "round %d", round)
		require.Equal(t, wantSent, gotSent, "round %d", round)
		require.Equal(t, wantClose, gotClose, "round %d", round)
		require.Equal(t, string(prefix), string(got[:len(prefix)]))
		if stream {
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got[len(prefix):])),
			&http.Request{Method: string(req.Method)})
		require.NoError(t, err, "round %d: %q", round, got[len(prefix):])
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, status, resp.StatusCode)
		if req.IsHead() || status == 204 || status == 304 {
			require.Empty(t, b)
		} else {
			require.Equal(t, string(body), string(b), "round %d", round)
		}
	}
}

package uringd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handler that reads its streamed body and then works for longer than
// BodyTimeout still delivers its response: once the body is all in, the
// client owes nothing and no read timeout runs (issue 10, item 2.5). The
// same when the handler works first and reads later, the whole
// Content-Length body having arrived meanwhile.
func TestStreamedBodyDeadlineEndsWithTheBody(t *testing.T) {
	const bodyTimeout = 300 * time.Millisecond
	ForEachMode(t, func(t *testing.T, m TestMode) {
		for _, path := range []string{"/up", "/blk", "/up-late", "/blk-late"} {
			t.Run(path[1:], func(t *testing.T) {
				late := strings.HasSuffix(path, "-late")
				cfg := m.Cfg
				cfg.BodyTimeout = bodyTimeout
				cfg.Tick = 10 * time.Millisecond
				work := func(r io.Reader, w io.Writer) {
					if late {
						time.Sleep(3 * bodyTimeout)
					}
					n, err := io.Copy(io.Discard, r)
					time.Sleep(3 * bodyTimeout)
					fmt.Fprintf(w, "%d %v", n, err)
				}
				s := startEngine(t, m, cfg, func(s *Server) {
					up := FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						work(r.Body, w)
					}))
					blk := Blocking(StreamingBody(BlockingHandlerFunc(
						func(ctx context.Context, w ResponseWriter, r *Request) { work(Body(ctx, r), w) })))
					s.Handle("/up", up)
					s.Handle("/up-late", up)
					s.Handle("POST /blk", blk)
					s.Handle("POST /blk-late", blk)
				})
				c := dialRaw(t, s)
				body := strings.Repeat("a", 100000)
				_, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"+body[:1000])
				require.NoError(t, err)
				time.Sleep(50 * time.Millisecond) // the handler is reading: the rest is streamed
				_, err = io.WriteString(c, body[1000:])
				require.NoError(t, err)
				resp, got := c.read(t, "POST")
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, "100000 <nil>", got)
			})
		}
	})
}

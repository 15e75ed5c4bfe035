package uringd

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/internal/engine"
)

// Stats count every response by handler kind and status class, and every
// request in the duration histogram, on every engine: what /metrics shows.
func TestStatsCountResponsesByKindAndClass(t *testing.T) {
	ForEachMode(t, func(t *testing.T, m TestMode) {
		s := startEngine(t, m, Config{}, func(s *Server) {
			s.HandleFunc("GET /ok", func(w *Response, r *Request) { w.WriteString("ok") })
			s.Handle("GET /slow", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				time.Sleep(30 * time.Millisecond)
				w.WriteHeader(201)
			}))
			s.Handle("GET /std", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "no", 503)
			})))
		})
		c := dialRaw(t, s)
		_, err := io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /std HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		for range 4 {
			c.read(t, "GET")
		}
		bad := dialRaw(t, s)
		_, err = io.WriteString(bad, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
		require.NoError(t, err)
		bad.read(t, "GET")

		var st Stats
		require.Eventually(t, func() bool {
			// Published once per loop turn; and a detached response is
			// counted when its producer reports it (Answered), which on
			// netpoll can come just after the client read the bytes.
			st = s.Stats()
			var n uint64
			for _, k := range st.Total.Responses {
				for _, c := range k {
					n += c
				}
			}
			return n == 5
		}, 5*time.Second, 5*time.Millisecond, "five responses counted")
		var want [engine.NumKinds][engine.NumClasses]uint64
		want[engine.KindPlain][1] = 1   // 200
		want[engine.KindPlain][3] = 2   // 404, 400
		want[engine.KindOffload][1] = 1 // 201
		want[engine.KindOffload][4] = 1 // 503
		assert.Equal(t, want, st.Total.Responses)
		var n uint64
		for _, c := range st.Total.Durations {
			n += c
		}
		assert.Equal(t, uint64(5), n, "every response in the histogram")
		var over25ms uint64
		for i, b := range engine.DurationBounds {
			if b > 25*time.Millisecond {
				over25ms += st.Total.Durations[i]
			}
		}
		over25ms += st.Total.Durations[engine.NumBuckets-1]
		assert.GreaterOrEqual(t, over25ms, uint64(1), "the 30 ms blocking request: %v", st.Total.Durations)
		assert.GreaterOrEqual(t, st.Total.DurationSum, uint64(30*time.Millisecond))
	})
}

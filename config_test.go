package uringd

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigRejectsOutOfRange: "negative values are rejected by New" holds
// for every field, and the error names the field.
func TestConfigRejectsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{BlockingWorkers: -5}, "Config.BlockingWorkers = -5 is out of range"},
		{Config{BlockingQueue: -1}, "Config.BlockingQueue = -1 is out of range"},
		{Config{Engine: Engine(42)}, "Config.Engine = Engine(42)"},
		{Config{Engine: Engine(-1)}, "Config.Engine = Engine(-1)"},
		{Config{Workers: -1}, "Config.Workers = -1 is out of range"},
		{Config{MaxBody: -1}, "Config.MaxBody = -1 is out of range"},
	} {
		_, err := New(c.cfg)
		assert.ErrorContains(t, err, c.want, "%+v", c.cfg)
	}
	// Zero takes the default, in withDefaults (the one place).
	c := Config{}.withDefaults()
	assert.Equal(t, DefaultBlockingWorkers, c.BlockingWorkers)
	assert.Equal(t, DefaultBlockingQueue, c.BlockingQueue)
	for _, e := range []Engine{EngineIOUring, EngineNetpoll, EngineAuto} {
		_, err := New(Config{Engine: e})
		assert.NoError(t, err, e.String())
	}
}

// syncBuffer is a log destination safe for the pool goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBlockingPanicLogsToConfigLogger: a blocking or net/http handler's
// panic is logged to Config.Logger, like a plain handler's, not to
// slog.Default.
func TestBlockingPanicLogsToConfigLogger(t *testing.T) {
	var def syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	ForEachMode(t, func(t *testing.T, e TestMode) {
		var logs syncBuffer
		s := startEngine(t, e, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(s *Server) {
			s.Handle("GET /panic", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
				panic("blocking boom")
			}))
			s.Handle("/std/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				panic("net/http boom")
			})))
		})
		for _, path := range []string{"/panic", "/std/x"} {
			c := dialRaw(t, s)
			_, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"))
			require.NoError(t, err)
			resp, _ := c.read(t, "GET")
			assert.Equal(t, 500, resp.StatusCode)
		}
		assert.Regexp(t, `msg="blocking handler panic" (worker=0 )?path=/panic panic="blocking boom"`, logs.String())
		assert.Regexp(t, `msg="blocking handler panic" (worker=0 )?path=/std/x panic="net/http boom"`, logs.String())
		assert.NotContains(t, def.String(), "boom", "slog.Default got a panic that Config.Logger should have")
	})
}

package uringd_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

// A handler that keeps a view of the request past its return (the classic
// bug of zero-copy servers) reads poison with Config.DebugPoisonBuffers, and
// a copy made with CopyBytes / CloneRequest stays intact.
func TestDebugPoisonBuffersExposesKeptViews(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.DebugPoisonBuffers = true
		cfg.Workers = 1
		s, err := uringd.New(cfg)
		require.NoError(t, err)
		var kept, copied []byte
		var cloned *uringd.Request
		later := make(chan struct{}, 1) // orders the handlers' writes before the test's reads
		s.HandleFunc("GET /keep", func(w *uringd.Response, r *uringd.Request) {
			kept = r.Header("X-Secret") // WRONG: a view, kept after return
			copied = uringd.CopyBytes(r.Header("X-Secret"))
			cloned = uringd.CloneRequest(r)
		})
		s.HandleFunc("GET /other", func(w *uringd.Response, r *uringd.Request) { later <- struct{}{} })
		require.NoError(t, s.Start())
		t.Cleanup(func() { s.Shutdown(t.Context()) })

		c := dial(t, s)
		c.send("GET /keep?q=1 HTTP/1.1\r\nHost: x\r\nX-Secret: sesame\r\n\r\n")
		c.response("GET")
		c.send("GET /other HTTP/1.1\r\nHost: y\r\n\r\n")
		c.response("GET")
		<-later

		require.Equal(t, "sesame", string(copied))
		require.Equal(t, "sesame", string(cloned.Header("X-Secret")))
		require.Equal(t, "/keep", string(cloned.Path))
		require.Equal(t, "q=1", string(cloned.Query))
		require.Equal(t, "x", string(cloned.Host))
		require.Equal(t, strings.Repeat("\xdd", len("sesame")), string(kept),
			"the kept view reads the poison pattern")
	})
}

//go:build !race

package uringd

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkOffloadRoundTrip measures one keep-alive request and response
// per iteration through each off-loop handler kind (-benchmem: the
// allocations per request of the pool path, client side included).
func BenchmarkOffloadRoundTrip(b *testing.B) {
	for _, m := range TestModes {
		b.Run(m.Name, func(b *testing.B) {
			SkipWithoutIOUring(b, m.Engine)
			cfg := Config{Addr: "127.0.0.1:0", Workers: 1}
			m.Apply(&cfg)
			s, err := New(cfg)
			require.NoError(b, err)
			func(s *Server) {
				s.Handle("GET /blocking", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
					w.Header().Set("Content-Type", "text/plain")
					io.WriteString(w, "Hello, World!")
				}))
				s.Handle("/std/", FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					io.WriteString(w, "Hello, World!")
				})))
			}(s)
			require.NoError(b, s.Start())
			b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
			for _, path := range []string{"/blocking", "/std/x"} {
				b.Run(path, func(b *testing.B) {
					c, err := net.Dial("tcp", s.Addr().String())
					require.NoError(b, err)
					defer c.Close()
					req := []byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
					_, err = c.Write(req)
					require.NoError(b, err)
					_, err = c.Read(make([]byte, 4096)) // learn the size (fixed-length Date)
					require.NoError(b, err)
					_, err = c.Write(req)
					require.NoError(b, err)
					buf := make([]byte, 4096)
					size, err := c.Read(buf)
					require.NoError(b, err)
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						if _, err := c.Write(req); err != nil {
							b.Fatal(err)
						}
						if _, err := io.ReadFull(c, buf[:size]); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

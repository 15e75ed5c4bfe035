package uringd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Slow readers of a big streamed response each cost the worker one output
// buffer of MaxPendingOutput's size class (512 KiB by default), not more:
// the producer may fill the buffer, sent bytes included, up to the limit,
// so it never doubles past it nor leaves old copies pinned by sends the
// slow client takes long to complete. Before, each such connection held a
// 2 MiB buffer and, often, a pinned older one. Measured on the worker's
// mapped buffer memory (Stats.BufferBytesMapped), which holds every output
// buffer and nothing of the Go heap.
//
//	go test -count=1 -run TestStreamOutputBufferWithinLimitForSlowReaders -v .
func TestStreamOutputBufferWithinLimitForSlowReaders(t *testing.T) {
	const (
		clients = 10
		size    = 8 << 20
		slow    = 4 << 20 // read at about 3 MiB/s first, then the rest at once
	)
	SkipWithoutIOUring(t, EngineIOUring)
	s := startEngine(t, fastPath, Config{}, func(s *Server) {
		s.Handle("GET /big", BlockingFunc(func(ctx context.Context, w ResponseWriter, r *Request) {
			w.Header().Set("Content-Length", strconv.Itoa(size))
			p := make([]byte, 64<<10)
			for off := 0; off < size; off += len(p) {
				for i := range p {
					p[i] = byte(off + i)
				}
				if _, err := w.Write(p); err != nil {
					return
				}
			}
		}))
	})
	before := s.Stats().Total.BufferBytesMapped
	peak := before
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				peak = max(peak, s.Stats().Total.BufferBytesMapped)
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- slowRead(s.Addr().String(), size, slow)
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	grew := int64(peak) - int64(before)
	t.Logf("mapped buffer memory grew by %d KiB for %d slow readers", grew>>10, clients)
	// One 1 MiB buffer each, plus the small buffers it grew from (some
	// pinned a while by a slow send) and the pool's idle ones: measured
	// 13.3 MiB for 10. Before, 33 MiB: a 2 MiB buffer each, and a pinned
	// 1 MiB one.
	assert.Less(t, grew, int64(clients*2)<<20, "mapped %d KiB more for %d slow readers", grew>>10, clients)
}

// slowRead GETs /big and reads its first slow bytes 32 KiB per 10 ms, then
// the rest at once, checking every byte.
func slowRead(addr string, size, slow int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 32<<10)
	got := 0
	for {
		n, err := resp.Body.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != byte(got+i) {
				return fmt.Errorf("byte %d differs", got+i)
			}
		}
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", got, err)
		}
		if got < slow {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got != size {
		return fmt.Errorf("read %d bytes, want %d", got, size)
	}
	return nil
}

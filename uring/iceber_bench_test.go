//go:build icebench

package uring_test

// iceber/iouring-go's high-level package reaches into the standard library
// with go:linkname (syscall.Sockaddr.sockaddr), which the Go 1.23+ linker
// refuses by default. So this comparison is opt-in:
//
//	taskset -c 0 go test -tags icebench -ldflags=-checklinkname=0 -run '^$' -bench . -benchmem ./uring/

import (
	"fmt"
	"testing"

	"github.com/iceber/iouring-go"
)

// BenchmarkIceberNop does the same work through iceber/iouring-go's
// high-level API: one channel per request (batch=1) or per batch, results
// routed by its own goroutine through an eventfd and a map.
func BenchmarkIceberNop(b *testing.B) {
	b.Run("channel-per-request/batch=1", func(b *testing.B) {
		iour, err := iouring.New(128)
		if err != nil {
			b.Skipf("iceber iouring.New: %v", err)
		}
		defer iour.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ch := make(chan iouring.Result, 1)
			if _, err := iour.SubmitRequest(iouring.Nop(), ch); err != nil {
				b.Fatal(err)
			}
			if res := <-ch; res.Err() != nil {
				b.Fatal(res.Err())
			}
		}
	})
	for _, batch := range batches[1:] {
		b.Run(fmt.Sprintf("channel-per-batch/batch=%d", batch), func(b *testing.B) {
			iour, err := iouring.New(128)
			if err != nil {
				b.Skipf("iceber iouring.New: %v", err)
			}
			defer iour.Close()
			reqs := make([]iouring.PrepRequest, batch)
			for i := range reqs {
				reqs[i] = iouring.Nop()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				k := min(batch, b.N-done)
				ch := make(chan iouring.Result, k)
				if _, err := iour.SubmitRequests(reqs[:k], ch); err != nil {
					b.Fatal(err)
				}
				for i := 0; i < k; i++ {
					if res := <-ch; res.Err() != nil {
						b.Fatal(res.Err())
					}
				}
			}
		})
	}
}

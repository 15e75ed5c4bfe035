package uring_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/uringd/uringd/uring"
)

// Run on one CPU, as bench/DESIGN-NOTES.md records:
//
//	taskset -c 0 go test -run '^$' -bench . -benchmem ./uring/
//
// The comparison with iceber/iouring-go's high-level API is in
// iceber_bench_test.go, behind a build tag (see there).
//
// ns/op and allocs/op are per NOP (or per send+recv pair).

var batches = []int{1, 16, 64}

func BenchmarkNop(b *testing.B) {
	for _, c := range configs[:1:1] {
		for _, batch := range batches {
			b.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(b *testing.B) {
				benchNops(b, c, batch)
			})
		}
	}
	c := configs[len(configs)-1]
	b.Run(c.name+"/batch=64", func(b *testing.B) { benchNops(b, c, 64) })
}

func benchNops(b *testing.B, c config, batch int) {
	r := newTestRing(b, uring.Options{Entries: 128, Disable: c.disable})
	nops(r, 1000, batch) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		k := min(batch, b.N-done)
		for i := 0; i < k; i++ {
			s := r.GetSQE()
			s.PrepNop()
			s.SetUserData(uint64(i))
		}
		if _, err := r.SubmitAndWait(uint32(k)); err != nil {
			b.Fatal(err)
		}
		n := r.CQReady()
		for i := uint32(0); i < n; i++ {
			if r.CQEAt(i).Res != 0 {
				b.Fatal("nop failed")
			}
		}
		r.CQAdvance(n)
	}
}

// BenchmarkSendRecv is one send and one receive (selected from the buffer
// group, re-armed or multishot per configuration) over a socket pair.
func BenchmarkSendRecv(b *testing.B) {
	for _, c := range configs {
		b.Run(c.name+"/"+recvMode(c), func(b *testing.B) {
			r := newTestRing(b, uring.Options{Entries: 64, Disable: c.disable})
			a, s := socketPair(b)
			g, err := r.NewBufferGroup(1, 8, 64, provideUD)
			require.NoError(b, err)
			out := mmapBuf(b, 64)
			armRecv(r, s, g)
			sendRecv(r, a, s, g, out[:16])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if sendRecv(r, a, s, g, out[:16]) != 0 {
					b.Fatal("send/recv failed")
				}
			}
		})
	}
}

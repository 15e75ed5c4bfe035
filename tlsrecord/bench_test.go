package tlsrecord

import (
	"crypto/tls"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// BenchmarkSeal and BenchmarkOpen protect one record of 1 KiB and of 16 KiB
// per op, into and from buffers that are reused.
func BenchmarkSeal(b *testing.B) {
	benchSuites(b, func(b *testing.B, srv, _ *Conn, msg []byte) {
		out := make([]byte, 0, len(msg)+Overhead)
		for b.Loop() {
			out, _ = srv.Seal(out[:0], msg)
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	benchSuites(b, func(b *testing.B, srv, cli *Conn, msg []byte) {
		// Seal a run of records ahead (sequence numbers must advance), then
		// open them in place; re-seal outside the timer when they run out.
		const ahead = 256
		recs := make([][]byte, ahead)
		refill := func() {
			for i := range recs {
				recs[i], _ = cli.Seal(recs[i][:0], msg)
			}
		}
		refill()
		i := 0
		for b.Loop() {
			if i == ahead {
				b.StopTimer()
				refill()
				i = 0
				b.StartTimer()
			}
			if _, _, err := srv.Open(recs[i]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func benchSuites(b *testing.B, f func(b *testing.B, srv, cli *Conn, msg []byte)) {
	for _, id := range allSuites {
		for _, size := range []int{1 << 10, 16 << 10} {
			b.Run(tls.CipherSuiteName(id)+"/"+strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
				srv, cli := pair(b, id)
				msg := randomBytes(size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				f(b, srv, cli, msg)
			})
		}
	}
}

// TestConnStateSize reports what one connection's record layer costs: the
// Conn itself and the AEAD objects it points to, measured as heap growth
// over many Conns.
func TestConnStateSize(t *testing.T) {
	eachSuite(t, func(t *testing.T, id uint16) {
		const n = 2000
		p := Params{Suite: id, ReadSecret: randomBytes(suiteByID(id).hashSz), WriteSecret: randomBytes(suiteByID(id).hashSz)}
		conns := make([]*Conn, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			c, err := NewConn(p)
			require.NoError(t, err)
			conns[i] = c
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := (after.HeapAlloc - before.HeapAlloc) / n
		t.Logf("%s: Conn struct %d bytes, heap per connection %d bytes", tls.CipherSuiteName(id), unsafe.Sizeof(Conn{}), per)
		require.Less(t, per, uint64(4096), "per-connection record state should stay small")
		runtime.KeepAlive(conns)
	})
}

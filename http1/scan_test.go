package http1

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func naiveScanValue(b []byte, i int) int {
	for ; i < len(b); i++ {
		if !valueTable[b[i]] {
			return i
		}
	}
	return i
}

func naiveScanTarget(b []byte, i int) int {
	for ; i < len(b); i++ {
		if c := b[i]; c <= 0x20 || c == 0x7f {
			return i
		}
	}
	return i
}

// TestScanWordAtATime checks the eight-bytes-at-a-time scanners against a
// byte loop, with the interesting bytes at every position of a word.
func TestScanWordAtATime(t *testing.T) {
	special := []byte{0x00, '\t', '\n', '\r', 0x1f, ' ', 0x21, '~', 0x7f, 0x80, 0xff, 'a'}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 40; n++ {
		for iter := 0; iter < 200; iter++ {
			b := make([]byte, n)
			for k := range b {
				if rng.IntN(4) == 0 {
					b[k] = special[rng.IntN(len(special))]
				} else {
					b[k] = byte(0x21 + rng.IntN(0x5e))
				}
			}
			for start := 0; start <= n && start < 3; start++ {
				require.Equal(t, naiveScanValue(b, start), scanValue(b, start), "%q from %d", b, start)
				require.Equal(t, naiveScanTarget(b, start), scanTarget(b, start), "%q from %d", b, start)
			}
		}
	}
}

// TestNotHostWord checks the word-at-a-time host and digit byte tests against the
// byte rule, for every byte value at every position of a word among
// random neighbours (a range test that carried into a neighbour would
// flag it wrongly).
func TestNotHostWord(t *testing.T) {
	isHost := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var w [8]byte
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for iter := 0; iter < 64; iter++ {
				for k := range w {
					w[k] = byte(rng.IntN(256))
				}
				w[pos] = byte(c)
				m := notHostWord(binary.LittleEndian.Uint64(w[:]))
				d := notDigitWord(binary.LittleEndian.Uint64(w[:]))
				for k := range w {
					require.Equal(t, !isHost(w[k]), m>>(8*k+7)&1 == 1, "%q byte %d", w, k)
					require.Equal(t, w[k] < '0' || w[k] > '9', d>>(8*k+7)&1 == 1, "%q byte %d", w, k)
				}
			}
		}
	}
}

package http1

import (
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

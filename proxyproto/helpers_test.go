package proxyproto

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// checkPrefixes asserts Parse's incremental contract on in: every prefix
// gives ErrIncomplete or exactly the result for the whole input, the first
// prefix that decides is the shortest one that can (n bytes for a header,
// the offending byte for an error), and no result consumes more than given.
func checkPrefixes(t testing.TB, in []byte) {
	t.Helper()
	h, n, err := Parse(in)
	limit := min(len(in), MaxHeaderLen+1)
	decided := -1
	// Plain comparisons, not require's reflection: the fuzzer runs this loop
	// up to 537 times per input.
	for k := 0; k <= limit; k++ {
		hk, nk, ek := Parse(in[:k])
		if nk > k {
			t.Fatalf("prefix of %d bytes: consumed %d", k, nk)
		}
		if ek == ErrIncomplete {
			if decided >= 0 {
				t.Fatalf("prefix of %d bytes decided (%v) but the longer prefix of %d is incomplete; input %q", decided, err, k, in)
			}
			continue
		}
		if decided < 0 {
			decided = k
		}
		if ek != err || nk != n || hk != h {
			t.Fatalf("prefix %q: (%+v, %d, %v); whole %q: (%+v, %d, %v)", in[:k], hk, nk, ek, in, h, n, err)
		}
	}
	if err == nil {
		require.Equal(t, n, decided, "a header of %d bytes must be decided at exactly %d bytes", n, n)
	}
}

// v2 builds a v2 header from its parts: ver_cmd, fam, the length field and
// the bytes after the fixed part (which need not match the length field).
func v2(verCmd, fam byte, length int, rest ...byte) []byte {
	b := []byte(v2Sig)
	b = append(b, verCmd, fam, byte(length>>8), byte(length))
	return append(b, rest...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

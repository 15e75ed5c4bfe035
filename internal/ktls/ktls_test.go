package ktls

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCryptoInfoLayout: the encodings have the sizes and field order of
// linux/tls.h's tls12_crypto_info_aes_gcm_128 (40 bytes),
// _aes_gcm_256 (56) and _chacha20_poly1305 (56): the kernel checks the
// length, and a field out of place would only show as records that fail
// to open.
func TestCryptoInfoLayout(t *testing.T) {
	iv := [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, tc := range []struct {
		suite  uint16
		keyLen int
		size   int
	}{{suiteAES128, 16, 40}, {suiteAES256, 32, 56}, {suiteChaCha, 32, 56}} {
		key := make([]byte, tc.keyLen)
		for i := range key {
			key[i] = 0xa0 + byte(i)
		}
		b, err := cryptoInfo(tc.suite, &Keys{Key: key, IV: iv, Seq: 0x0102030405060708})
		require.NoError(t, err)
		require.Len(t, b, tc.size)
		require.Equal(t, []byte{4, 3}, b[:2], "TLS 1.3, little-endian u16")
		require.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, b[len(b)-8:], "rec_seq, big-endian")
		if tc.suite == suiteChaCha {
			require.Equal(t, iv[:], b[4:16], "iv[12]")
			require.Equal(t, key, b[16:48])
		} else {
			require.Equal(t, iv[4:], b[4:12], "iv[8]: the IV's last 8 bytes")
			require.Equal(t, key, b[12:12+tc.keyLen])
			require.Equal(t, iv[:4], b[12+tc.keyLen:16+tc.keyLen], "salt: the IV's first 4 bytes")
		}
	}
	_, err := cryptoInfo(0x1304, &Keys{Key: make([]byte, 16)})
	require.Error(t, err, "TLS_AES_128_CCM_SHA256 is not taken")
}

// TestProbeCached: the probe runs once and says why when there is no
// kernel TLS.
func TestProbeCached(t *testing.T) {
	p := Available()
	require.Equal(t, p, Available())
	if len(p.Suites) == 0 {
		require.NotEmpty(t, p.Why)
	}
	t.Logf("kernel TLS: suites %x, %s", p.Suites, p.Why)
}

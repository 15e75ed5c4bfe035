package tlsrecord

import (
	"crypto/tls"
	"testing"
	_ "unsafe" // go:linkname
)

// crypto/tls ignores Config.CipherSuites for TLS 1.3 and picks the suite
// from this list (the client offers it and the server prefers it, in this
// order). crypto/tls marks it for linkname ("do not change the type
// signature", go.dev/issue/67401); the tests use it to make Go's own
// client and server agree on each suite in turn.
//
//go:linkname defaultCipherSuitesTLS13 crypto/tls.defaultCipherSuitesTLS13
var defaultCipherSuitesTLS13 []uint16

//go:linkname defaultCipherSuitesTLS13NoAES crypto/tls.defaultCipherSuitesTLS13NoAES
var defaultCipherSuitesTLS13NoAES []uint16

var allSuites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}

// forceSuite makes crypto/tls negotiate only suite until the test ends.
// Tests that call it must not run in parallel.
func forceSuite(t testing.TB, suite uint16) {
	a, b := defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES
	defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES = []uint16{suite}, []uint16{suite}
	t.Cleanup(func() { defaultCipherSuitesTLS13, defaultCipherSuitesTLS13NoAES = a, b })
}

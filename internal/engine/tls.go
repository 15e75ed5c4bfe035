package engine

import (
	"crypto/tls"

	"github.com/uringd/uringd/http1"
)

// TLSStater is implemented by a Detacher (an engine's connection or event
// loop) and by a Stream that can tell the TLS state of the connection:
// nil over cleartext.
type TLSStater interface {
	TLSState() *tls.ConnectionState
}

// TLSState is the TLS state of the connection whose request resp answers,
// during the handler's call; nil over cleartext or outside a handler. It
// does not allocate.
func TLSState(resp *http1.Response) *tls.ConnectionState {
	v, ok := detachers.Load(resp)
	if !ok {
		return nil
	}
	if t, ok := v.(TLSStater); ok {
		return t.TLSState()
	}
	return nil
}

// StreamTLS is the TLS state of a detached response's connection; nil over
// cleartext.
func StreamTLS(s Stream) *tls.ConnectionState {
	if t, ok := s.(TLSStater); ok {
		return t.TLSState()
	}
	return nil
}

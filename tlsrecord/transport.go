package tlsrecord

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// ErrHandedOff is returned by Feed once the record layer has taken over.
var ErrHandedOff = errors.New("tlsrecord: connection handed off to the record layer")

// transport is the net.Conn crypto/tls runs over: Read takes bytes the loop
// fed, Write stores bytes for the loop to send. Only Read blocks, and only
// the crypto/tls goroutine calls it.
type transport struct {
	mu   sync.Mutex
	cond sync.Cond // Read waits here for input or close; guarded by mu
	wake func()    // immutable; tells the loop there is output or news

	in  []byte // fed, not yet read; guarded by mu
	out []byte // written, not yet taken by the loop; guarded by mu

	// While the handshake runs, Read stops at record boundaries, so when
	// Handshake returns crypto/tls holds no byte beyond its last record
	// and every later byte is still in "in" to hand over. recLeft is what
	// remains of the record being read (0 at a boundary).
	bounded bool
	recLeft int
	// rlog and wlog keep what crypto/tls read and wrote during the
	// handshake, to count the records it protected with the application
	// keys (the sequence numbers at hand-off). Dropped afterwards.
	rlog, wlog []byte

	closed    bool
	closeErr  error // what Read and Write return once closed
	handedOff bool

	local, remote net.Addr // immutable
	keys          keyLog   // written by the handshake goroutine only
}

func newTransport(wake func(), local, remote net.Addr) *transport {
	t := &transport{wake: wake, bounded: true, local: local, remote: remote}
	t.cond.L = &t.mu
	return t
}

func (t *transport) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if t.closed {
			return 0, t.closeErr
		}
		limit := len(p)
		if t.bounded {
			if t.recLeft == 0 && len(t.in) >= HeaderLen {
				t.recLeft = HeaderLen + (int(t.in[3])<<8 | int(t.in[4]))
			}
			if t.recLeft == 0 {
				// Wait for a whole header: crypto/tls needs it anyway.
				t.cond.Wait()
				continue
			}
			limit = min(limit, t.recLeft)
		}
		if len(t.in) == 0 || limit == 0 {
			if len(p) == 0 {
				return 0, nil
			}
			t.cond.Wait()
			continue
		}
		n := copy(p[:limit], t.in)
		t.in = append(t.in[:0], t.in[n:]...)
		if t.bounded {
			t.recLeft -= n
			t.rlog = append(t.rlog, p[:n]...)
		}
		return n, nil
	}
}

func (t *transport) Write(p []byte) (int, error) {
	t.mu.Lock()
	if t.closed && t.closeErr != net.ErrClosed {
		// Timed out or aborted: nobody will send this.
		t.mu.Unlock()
		return 0, t.closeErr
	}
	t.out = append(t.out, p...)
	if t.bounded {
		t.wlog = append(t.wlog, p...)
	}
	t.mu.Unlock()
	t.wake()
	return len(p), nil
}

// feed appends bytes received from the socket.
func (t *transport) feed(p []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.handedOff {
		return ErrHandedOff
	}
	if t.closed {
		return t.closeErr
	}
	t.in = append(t.in, p...)
	t.cond.Signal()
	return nil
}

// output appends the bytes crypto/tls wrote since the last call to dst.
func (t *transport) output(dst []byte) []byte {
	t.mu.Lock()
	dst = append(dst, t.out...)
	t.out = t.out[:0]
	t.mu.Unlock()
	return dst
}

// pending reports whether output is waiting.
func (t *transport) pending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.out) > 0
}

// closeWith ends the transport: Read returns err, so crypto/tls stops. A
// plain Close (err == net.ErrClosed, crypto/tls closing the Conn) still
// accepts the close_notify it writes on the way out.
func (t *transport) closeWith(err error) {
	t.mu.Lock()
	if !t.closed {
		t.closed, t.closeErr = true, err
	}
	t.cond.Broadcast()
	t.mu.Unlock()
}

func (t *transport) Close() error {
	t.closeWith(net.ErrClosed)
	return nil
}

func (t *transport) LocalAddr() net.Addr  { return t.local }
func (t *transport) RemoteAddr() net.Addr { return t.remote }

// Deadlines belong to the loop, which owns the socket and its timers; the
// handshake has its own timeout.
func (t *transport) SetDeadline(time.Time) error      { return nil }
func (t *transport) SetReadDeadline(time.Time) error  { return nil }
func (t *transport) SetWriteDeadline(time.Time) error { return nil }

var errTimeout = &timeoutError{}

// timeoutError is what a timed-out handshake fails with; it wraps
// os.ErrDeadlineExceeded and reports Timeout() as net.Error does.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "tlsrecord: handshake timed out" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }
func (*timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

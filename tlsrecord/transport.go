package tlsrecord

import (
	"errors"
	"io"
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

	// Read stops at record boundaries: when Handshake returns, crypto/tls
	// holds no byte beyond its last record and every later byte is still
	// in "in" to hand over; and afterwards, on a goroutine, whether
	// crypto/tls holds part of a record (which a graceful shutdown must
	// not take for idleness: InputPending) is recLeft > 0. recLeft is what
	// remains of the record being read (0 at a boundary).
	recLeft int
	// rlog and wlog keep what crypto/tls read and wrote during the
	// handshake (while logging), to count the records it protected with
	// the application keys (the sequence numbers at hand-off). Dropped
	// afterwards.
	logging    bool
	rlog, wlog []byte

	closed    bool
	closeErr  error // what Read and Write return once closed
	handedOff bool

	// After a handshake without a record path, the loop keeps pumping
	// bytes while a goroutine serves the crypto/tls Conn; that goroutine
	// needs what a socket gives: deadlines, backpressure, EOF, and a close
	// the loop hears of (goroutine.go).
	rdl, wdl     time.Time   // deadlines; zero: none
	rtimer       *time.Timer // wakes a Read or Write waiting past a deadline
	wtimer       *time.Timer
	outLimit     int  // Write waits while out holds this much (0: no bound)
	eof          bool // the peer's EOF: Read returns io.EOF once in is drained
	closedByConn bool // Close came from crypto/tls (the serving goroutine), not the loop

	local, remote net.Addr // immutable
	keys          keyLog   // written by the handshake goroutine only
}

func newTransport(wake func(), local, remote net.Addr) *transport {
	t := &transport{wake: wake, logging: true, local: local, remote: remote}
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
		if passed(t.rdl) {
			return 0, errDeadline
		}
		limit := len(p)
		if t.recLeft == 0 && len(t.in) >= HeaderLen {
			t.recLeft = HeaderLen + (int(t.in[3])<<8 | int(t.in[4]))
		}
		switch {
		case t.recLeft > 0:
			limit = min(limit, t.recLeft)
		case !t.eof:
			// Wait for a whole header: crypto/tls needs it anyway.
			t.cond.Wait()
			continue
		}
		// After the peer's EOF, the bytes of a truncated header still go
		// to crypto/tls (which fails on them), then io.EOF.
		if len(t.in) == 0 || limit == 0 {
			if len(p) == 0 {
				return 0, nil
			}
			if t.eof && len(t.in) == 0 {
				return 0, io.EOF
			}
			t.cond.Wait()
			continue
		}
		n := copy(p[:limit], t.in)
		t.in = append(t.in[:0], t.in[n:]...)
		t.recLeft = max(t.recLeft-n, 0)
		if t.logging {
			t.rlog = append(t.rlog, p[:n]...)
		}
		return n, nil
	}
}

func (t *transport) Write(p []byte) (int, error) {
	t.mu.Lock()
	for t.outLimit > 0 && len(t.out) >= t.outLimit && !t.closed {
		if passed(t.wdl) {
			t.mu.Unlock()
			return 0, errDeadline
		}
		t.cond.Wait() // the loop has not sent what is there yet
	}
	if t.closed && (t.closeErr != net.ErrClosed || t.outLimit > 0 && !t.closedByConn) {
		// Timed out or aborted, or the loop closed the socket: nobody
		// will send this.
		t.mu.Unlock()
		return 0, t.closeErr
	}
	t.out = append(t.out, p...)
	if t.logging {
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
	t.cond.Broadcast() // the reader (a writer may wait on the same cond)
	return nil
}

// InputPending reports whether bytes fed to the transport are not yet
// plaintext that crypto/tls returned: some still unread, or part of a
// record crypto/tls holds while it waits for the rest. A goroutine serving
// the Conn (goroutine.go) whose read waits for a request is idle only
// without them: a graceful shutdown that closed it would drop a request
// the socket had already delivered (netpoll's closeIfIdle asks through
// tls.Conn.NetConn).
func (t *transport) InputPending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.in) > 0 || t.recLeft > 0
}

// output appends the bytes crypto/tls wrote since the last call to dst.
func (t *transport) output(dst []byte) []byte {
	t.mu.Lock()
	dst = append(dst, t.out...)
	t.out = t.out[:0]
	if t.outLimit > 0 {
		t.cond.Broadcast() // a Write waiting for room
	}
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

// Close is crypto/tls closing its Conn: after a hand-off to a goroutine,
// the loop learns of it (Handshake.ConnClosed) and closes the socket once
// the output is out.
func (t *transport) Close() error {
	t.mu.Lock()
	first := !t.closed
	t.closedByConn = t.closedByConn || first
	t.mu.Unlock()
	t.closeWith(net.ErrClosed)
	if first {
		t.wake()
	}
	return nil
}

func (t *transport) LocalAddr() net.Addr  { return t.local }
func (t *transport) RemoteAddr() net.Addr { return t.remote }

// Deadlines: during the handshake they belong to the loop, which owns the
// socket and its timers (the handshake has its own timeout), but crypto/tls
// sets none then. A goroutine serving the Conn after the handshake sets
// them as on a socket: a Read or a Write waiting past one fails with a
// timeout (os.ErrDeadlineExceeded), and the Conn stays usable.
func (t *transport) SetDeadline(d time.Time) error {
	t.SetReadDeadline(d)
	return t.SetWriteDeadline(d)
}

func (t *transport) SetReadDeadline(d time.Time) error {
	t.mu.Lock()
	t.rdl = d
	t.rtimer = t.arm(t.rtimer, d)
	t.mu.Unlock()
	return nil
}

func (t *transport) SetWriteDeadline(d time.Time) error {
	t.mu.Lock()
	t.wdl = d
	t.wtimer = t.arm(t.wtimer, d)
	t.mu.Unlock()
	return nil
}

// arm sets tm to wake the waiters at d (or stops it for a zero d), and
// wakes them now so that they look at the new deadline. t.mu is held.
func (t *transport) arm(tm *time.Timer, d time.Time) *time.Timer {
	if tm != nil {
		tm.Stop()
	}
	t.cond.Broadcast()
	if d.IsZero() {
		return tm
	}
	dur := time.Until(d)
	if dur <= 0 {
		return tm
	}
	if tm == nil {
		return time.AfterFunc(dur, t.broadcast)
	}
	tm.Reset(dur)
	return tm
}

func (t *transport) broadcast() {
	t.mu.Lock()
	t.cond.Broadcast()
	t.mu.Unlock()
}

func passed(d time.Time) bool { return !d.IsZero() && !time.Now().Before(d) }

var errDeadline = &deadlineError{}

// deadlineError is what a Read or Write past its deadline fails with, as
// on a socket: Timeout(), and os.ErrDeadlineExceeded.
type deadlineError struct{}

func (*deadlineError) Error() string   { return "tlsrecord: i/o timeout" }
func (*deadlineError) Timeout() bool   { return true }
func (*deadlineError) Temporary() bool { return true }
func (*deadlineError) Unwrap() error   { return os.ErrDeadlineExceeded }

var errTimeout = &timeoutError{}

// timeoutError is what a timed-out handshake fails with; it wraps
// os.ErrDeadlineExceeded and reports Timeout() as net.Error does.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "tlsrecord: handshake timed out" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }
func (*timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

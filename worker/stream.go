package worker

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// Stream is a detached response, written by a pool goroutine and sent by the
// worker that owns the connection (see offload.go). Its methods are safe for
// one producer goroutine; the worker touches only the fields marked so.
type Stream struct {
	// Immutable after detach.
	w      *Worker
	req    http1.Request // owned copy: valid until Finish
	remote string
	peer   netip.AddrPort // for the access log (Answered); zero without one
	begun  time.Duration  // Worker.turn at which the request began arriving
	status int            // set by Answered before Finish; read by the worker at Finish's post
	limit  int            // Config.MaxPendingOutput: bytes in the connection's output before Write blocks
	ctx    context.Context
	cancel context.CancelFunc
	slot   uint32
	gen    uint32
	fd     int32                // the connection's socket, for SendFile (sendfile.go)
	tls    *tls.ConnectionState // the connection's, for handlers; nil over cleartext
	ktls   bool                 // the kernel protects the connection's records: SendFile works (ktls.go)

	mu     sync.Mutex
	cond   sync.Cond    // L = &mu; signalled as bytes are sent or the stream fails
	unsent int          // guarded by mu: posted, and not yet out of the connection's output (release)
	err    error        // guarded by mu: ErrClientGone once the connection closed
	done   bool         // guarded by mu: Finish was called
	sfd    int          // guarded by mu: SendFile's duplicate of fd while it sends; -1 otherwise
	filed  atomic.Int64 // bytes SendFile sent, counted as sent at Finish

	run func(engine.Stream) // the job, for RunJob

	// A streamed request body (body.go); nil when the body is in req.
	body     *bodyPipe
	lend     []byte    // producer only: the body view WriteTo is writing (bodylend.go)
	bodyCond sync.Cond // L = &mu; signalled as body bytes arrive or the stream fails

	// Producer goroutine only (wake.go).
	corked bool   // Cork was called: a wake due is deferred to Finish
	owe    bool   // a post of this stream left a wake owed (payWake)
	owed   uint32 // the drain generation of that wake

	// Worker thread only.
	ahead  int  // unsent bytes of earlier responses queued before this one
	held   int  // the stream's sent bytes still in the connection's output (appendOut)
	behind bool // a send of the stream was partial: the client is slower than the producer
}

// RunJob runs the detached job on a pool goroutine (engine.Job).
func (s *Stream) RunJob() { s.serve(s.run) }

// Request is the owned copy of the request: its views point into memory of
// its own, valid until Finish (the producer may keep them that long).
func (s *Stream) Request() *http1.Request { return &s.req }

// RemoteAddr is the client's address, "ip:port" ("" if unknown).
func (s *Stream) RemoteAddr() string { return s.remote }

// Logger is the worker's Config.Logger, for the producer's own logs (a
// blocking handler's panic).
func (s *Stream) Logger() *slog.Logger { return s.w.log }

// Context is cancelled when the connection goes away (client EOF or reset,
// a timeout, a forced shutdown) and when Finish is called. At EOF alone
// (the client may only have shut its write side) writes still go out.
func (s *Stream) Context() context.Context { return s.ctx }

// Write sends p as the next raw bytes of the response: the caller frames
// it (status line, headers, Content-Length or chunked encoding). p is copied;
// it may be reused when Write returns. Write blocks while
// Config.MaxPendingOutput bytes of the stream are in the connection's
// output buffer (waiting to be sent, or sent and not yet compacted away:
// at most a quarter of the limit), and fails with ErrClientGone once the
// connection is closed.
func (s *Stream) Write(p []byte) (int, error) {
	if s.lending(p) {
		return s.writeLent(p) // a view of the body's window (bodylend.go)
	}
	n := 0
	for len(p) > 0 {
		k, err := s.reserve(len(p))
		if err != nil {
			return n, err
		}
		b := getPostBuf(k)
		*b = append((*b)[:0], p[:k]...)
		if owe, tok := s.w.post(post{s: s, b: b}, s.corked); owe {
			s.owe, s.owed = true, tok
		}
		p = p[k:]
		n += k
	}
	return n, nil
}

// Posted bytes travel in pooled buffers: the producer fills one, the worker
// copies it into the connection's off-heap output and puts it back. Two
// sizes, so that a small head does not hold a 64 KiB buffer.
var postBufs = [2]sync.Pool{
	{New: func() any { b := make([]byte, 0, 4<<10); return &b }},
	{New: func() any { b := make([]byte, 0, maxPost); return &b }},
}

func getPostBuf(n int) *[]byte {
	if n <= 4<<10 {
		return postBufs[0].Get().(*[]byte)
	}
	return postBufs[1].Get().(*[]byte)
}

func putPostBuf(b *[]byte) {
	switch cap(*b) {
	case 4 << 10:
		postBufs[0].Put(b)
	case maxPost:
		postBufs[1].Put(b)
	}
}

// reserve waits for room and accounts for up to n bytes about to be posted.
func (s *Stream) reserve(n int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && !s.done && s.unsent >= s.limit {
		s.payOwed() // the worker must run to make room
		s.cond.Wait()
	}
	switch {
	case s.err != nil:
		return 0, s.err
	case s.done:
		return 0, ErrFinished
	}
	k := min(n, s.limit-s.unsent, maxPost)
	s.unsent += k
	return k, nil
}

// Finish ends the response. closeConn closes the connection once it is sent
// (the response said "Connection: close", or its framing needs the close);
// otherwise the worker goes on with the requests pipelined behind it. Only
// the first call counts. It cancels the Context.
func (s *Stream) Finish(closeConn bool) {
	if !closeConn && s.finishBody() {
		closeConn = true // where the next request starts is unknown
	} else if closeConn {
		s.bodyUnread() // stop forwarding: the connection closes anyway
	}
	s.mu.Lock()
	done, err := s.done, s.err
	s.done = true
	s.cond.Broadcast()
	s.mu.Unlock()
	if done {
		return
	}
	s.cancel()
	if err == nil {
		if owe, tok := s.w.post(post{s: s, fin: true, close: closeConn}, true); owe {
			s.owe, s.owed = true, tok
		}
	}
	if s.owe {
		s.owe = false
		s.w.yieldThenWake(s.owed) // the job ends here: let the others post first (wake.go)
	}
}

// Cork says that the rest of the response is written at once and followed
// by Finish, without blocking on anything but the stream itself: a wake of
// the worker that its writes make due can wait for Finish, so that the
// response's last bytes and its end, and the responses of other producers
// that run meanwhile, cost the worker one wakeup. A producer that may block
// between its writes and Finish (a flush, then more work) must not Cork.
func (s *Stream) Cork() { s.corked = true }

// payOwed writes the wake a corked write left owed: the producer is about
// to block.
func (s *Stream) payOwed() {
	if s.owe {
		s.owe = false
		s.w.payWake(s.owed)
	}
}

// Err reports ErrClientGone once the connection is closed, else nil.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// release: n of the stream's bytes left the connection's output (worker
// thread).
func (s *Stream) release(n int) {
	s.mu.Lock()
	s.unsent -= n
	s.cond.Signal()
	s.mu.Unlock()
}

// peerEOF: the client shut its write side (worker thread). Its response
// still goes out; a streamed body ends here (truncated, if it was not
// complete); the context is cancelled, as net/http's background read
// does at EOF (a half-close cannot be told from a close until a write
// fails).
func (s *Stream) peerEOF() {
	s.mu.Lock()
	if s.body != nil {
		s.body.eof = true
		s.bodyCond.Broadcast()
	}
	s.mu.Unlock()
	s.cancel()
}

// fail: the connection is gone (worker thread).
func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	if s.sfd >= 0 {
		unix.Shutdown(s.sfd, unix.SHUT_RDWR) // ends a sendfile blocked on a client that is gone
	}
	s.cond.Broadcast()
	if s.body != nil {
		s.bodyCond.Broadcast()
	}
	s.mu.Unlock()
	s.cancel()
}

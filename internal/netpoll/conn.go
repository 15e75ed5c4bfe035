package netpoll

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// bufSize is the first size of a connection's input and output buffers
// (pooled: an idle connection between requests holds them, as net/http's
// bufio buffers do).
const bufSize = 16 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

// heapPool lets http1.Response grow a big response on the Go heap.
type heapPool struct{}

func (heapPool) Get(n int) []byte { return make([]byte, 0, n) }
func (heapPool) Put([]byte)       {}

// conn is one connection and its goroutine. Fields are owned by that
// goroutine, except mu/idle/closed (Shutdown looks at them).
type conn struct {
	s      *Server
	nc     net.Conn
	remote string
	peer   netip.AddrPort // for the access log

	in     *[]byte // bytes read, not yet consumed: (*in)[off:]
	off    int
	held   int64   // cap(*in) beyond bufSize, counted in Server.inHeld
	out    *[]byte // responses not yet written
	parser http1.Parser
	req    http1.Request
	resp   http1.Response
	date   http1.DateCache

	detached func(engine.Stream) // set by DetachCurrent during the handler
	peek     [1]byte             // a byte the watch read while a detached response ran
	peeked   bool

	body  *http1.BodyReader // the streamed body of the request being answered (body.go)
	clock bodyClock         // the read of the current request's body (clock.go)
	start time.Time         // the current request's first byte (or its wait's start)

	noLinger bool      // a read or write failed: close without lingering (linger)
	got      bool      // a byte was received: no longer fresh (closeIfIdle)
	accepted time.Time // immutable: when a fresh connection's wait began (closeIfIdle)

	tls *tls.ConnectionState // after the handshake (tls.go); nil over cleartext
	raw *rawConn             // the socket under the netpoll engine's own TLS (tlsraw.go)

	mu     sync.Mutex
	idle   bool // waiting for the first byte of a request
	fresh  bool // idle, and nothing was ever received (Shutdown holds it for engine.FreshHold)
	hs     bool // idle in the TLS handshake (tlsHandshake)
	closed bool
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, remote: nc.RemoteAddr().String(), accepted: time.Now()}
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.peer = ta.AddrPort()
	}
	return c
}

// closeIfIdle ends the connection if it waits for a new request (Shutdown).
// It wakes the read with a deadline in the past rather than closing the
// socket: a request whose bytes the read already returned, but which was not
// yet marked busy, is then still answered (with Connection: close) instead
// of being counted as served and its response written to a closed socket.
//
// A connection that has received nothing yet is spared for
// engine.FreshHold after its accept: its first request is most likely on
// the way, and a client cannot retry a request on a connection that never
// carried one.
func (c *conn) closeIfIdle(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.idle || c.closed || c.freshNow() && now.Sub(c.accepted) < engine.FreshHold:
	case c.raw != nil:
		c.raw.wake() // unless part of a record is in
	case !inputPending(c.nc):
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) setIdle(idle, fresh bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle, c.fresh, c.hs = idle, idle && fresh, false
	return !c.closed
}

// serve is the connection's goroutine: parse every complete request in the
// input, answer it into the output, write the output when the input has no
// complete request left (so pipelined answers share a write), read more.
func (c *conn) serve() {
	engine.Register(&c.resp, c)
	c.in, c.out = bufs.Get().(*[]byte), bufs.Get().(*[]byte)
	c.parser.Init(&c.s.cfg.Limits, make([]http1.Header, 0, c.s.cfg.Limits.MaxHeaders))
	c.resp.Pool = heapPool{}
	defer c.end()
	if allow := c.s.cfg.ProxyFrom; allow != nil && allow.Contains(c.peer.Addr()) && !c.proxyHeader() {
		c.noLinger = true
		return
	}
	c.startTLS()
	if !c.tlsHandshake() { // TLS first (tls.go), after the PROXY header
		return
	}
	inRequest := true // the first request's head is due within HeaderTimeout
	c.start = time.Now()
	for {
		n, err := c.parser.Next((*c.in)[c.off:], &c.req)
		switch {
		case err == nil:
			c.clock.on = false
			if !c.answer(n) {
				return
			}
			inRequest = false
			continue
		case err != http1.ErrIncomplete:
			c.refuse(err)
			return
		}
		if headLen, ok := c.parser.HeadOnly(); ok {
			if c.s.cfg.StreamBody != nil && c.s.cfg.StreamBody(&c.req) {
				if c.parser.NeedContinue() {
					*c.out = append(*c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
				}
				if !c.answerStreaming(headLen) {
					return
				}
				c.clock.on = false
				inRequest = false
				continue
			}
			if err := c.parser.KeepBody(); err != nil { // over MaxBody: streamed only
				c.refuse(err)
				return
			}
		}
		if c.parser.NeedContinue() {
			*c.out = append(*c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		}
		// A chunked body still arriving keeps its decoded bytes, not its
		// framing: memory and the stitch limit follow the body.
		*c.in = (*c.in)[:c.off+c.parser.CompactBody((*c.in)[c.off:])]
		if c.flush() != nil {
			return
		}
		pending := len(*c.in) > c.off
		if pending && !inRequest {
			inRequest, c.start = true, time.Now()
		}
		if !c.fill(inRequest) {
			return
		}
		if !inRequest {
			inRequest, c.start = true, time.Now()
		}
	}
}

// end closes the connection, lingering first, and gives its buffers back.
func (c *conn) end() {
	if !c.noLinger {
		c.linger()
	}
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.nc.Close()
	}
	c.mu.Unlock()
	engine.Unregister(&c.resp)
	c.s.inHeld.Add(-c.held)
	c.held = 0
	*c.in, *c.out = (*c.in)[:0], (*c.out)[:0]
	if cap(*c.in) == bufSize {
		bufs.Put(c.in)
	}
	if cap(*c.out) == bufSize {
		bufs.Put(c.out)
	}
	c.s.untrack(c)
}

// lingerTime bounds the lingering close; net/http waits 500ms too.
const lingerTime = 500 * time.Millisecond

// linger shuts down the write side, so the client reads the last response
// to its end, then reads and drops what the client still sends until its
// EOF or lingerTime: closing a socket with unread input sends a reset,
// which can destroy the tail of the response still on its way. Only after
// the server chose to close (Connection: close, a refused request): not
// after a failed read (EOF, reset, idle or other timeout, Shutdown waking
// an idle connection) or write.
func (c *conn) linger() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return // closed already (Shutdown's deadline) or not TCP
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	buf := (*c.in)[:cap(*c.in)] // the input is done with: a scratch buffer
	for {
		if _, err := c.nc.Read(buf); err != nil {
			return
		}
	}
}

// fill reads more input: under the header timeout (from the request's
// start) while a head is incomplete, the body's limits while a body is
// (clock.go), the idle timeout between requests. false: the connection is
// done.
func (c *conn) fill(inRequest bool) bool {
	in := *c.in
	switch {
	case c.off > 0 && c.s.cfg.DebugPoisonBuffers:
		// A fresh buffer, the old one all poison: a kept view must not
		// read the next request's bytes where the old ones were.
		nb := make([]byte, len(in)-c.off, cap(in))
		copy(nb, in[c.off:])
		poison(in[:cap(in)])
		in, c.off = nb, 0
	case c.off > 0: // keep only the unconsumed tail
		n := copy(in, in[c.off:])
		in, c.off = in[:n], 0
	}
	if len(in) >= c.stitchMax() {
		*c.in = in
		c.refuse(&http1.Error{Status: 413, Reason: "request too large"})
		return false
	}
	switch {
	case cap(in)-len(in) < 4096:
		// Doubling: a body costs memory as it arrives, not as declared.
		if !c.charge(2 * cap(in)) {
			*c.in = in
			c.s.stats.bodyBufferFull.Add(1)
			c.answerClose(503)
			return false
		}
		nb := make([]byte, len(in), 2*cap(in))
		copy(nb, in)
		in = nb
	case cap(in) > bufSize && len(in) <= bufSize/2:
		// A large request is answered: give its buffer back.
		nb := make([]byte, len(in), bufSize)
		copy(nb, in)
		in = nb
		c.charge(bufSize)
	}
	var deadline time.Time
	cfg := &c.s.cfg
	now := time.Now()
	inBody := inRequest && c.parser.InBody() // the head is in: the body's limits apply
	switch {
	case !inRequest && len(in) == 0:
		deadline = now.Add(cfg.IdleTimeout)
	case inBody:
		if !c.clock.on {
			c.clock.start(c.start)
		}
		deadline = c.clock.deadline(cfg, now)
	default:
		deadline = headDeadline(cfg, c.start)
	}
	c.nc.SetReadDeadline(deadline)
	idle := len(in) == 0
	fresh := idle && !c.got
	if idle && (!c.setIdle(true, fresh) || c.s.draining.Load() && !fresh && !c.wakeIdle()) {
		*c.in = in
		return false
	}
	n, err := c.nc.Read(in[len(in):cap(in)])
	if idle {
		c.setIdle(false, false)
	}
	c.got = c.got || n > 0
	if inBody {
		c.clock.read(now, n)
	}
	*c.in = in[:len(in)+n]
	c.s.stats.bytesIn.Add(uint64(n))
	if n == 0 && err != nil {
		c.noLinger = true // EOF, reset or a timeout: the client has nothing in flight worth waiting for
		c.countReadError(err, inRequest, in)
	}
	return n > 0 || err == nil
}

// countReadError says why a read ended the connection: which timeout, or
// an error other than the client's EOF.
func (c *conn) countReadError(err error, inRequest bool, in []byte) {
	st := &c.s.stats
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && c.s.draining.Load() && len(in) == 0:
		// Shutdown woke an idle read (closeIfIdle): not a timeout.
	case errors.Is(err, os.ErrDeadlineExceeded) && !inRequest && len(in) == 0:
		st.timeoutIdle.Add(1)
	case errors.Is(err, os.ErrDeadlineExceeded) && c.parser.InBody():
		st.timeoutBody.Add(1)
	case errors.Is(err, os.ErrDeadlineExceeded):
		st.timeoutHead.Add(1)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case isTLSAlert(err):
		st.tlsBadRecords.Add(1)
	default:
		st.recvErrors.Add(1)
	}
}

// countWrite accounts a write of n bytes that ended with err.
func (c *conn) countWrite(n int, err error) {
	st := &c.s.stats
	st.bytesOut.Add(uint64(n))
	if err != nil {
		c.noLinger = true
	}
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		st.timeoutWrite.Add(1)
	default:
		st.sendErrors.Add(1)
	}
}

// stitchMax bounds the input buffer (engine.Config.StitchMax).
func (c *conn) stitchMax() int { return c.s.cfg.StitchMax(bufSize) }

// charge counts an input buffer of capacity size against the server's
// MaxBodyBuffer; false (nothing counted) if it would pass it.
func (c *conn) charge(size int) bool {
	d := int64(max(size-bufSize, 0)) - c.held
	if n := c.s.inHeld.Add(d); d > 0 && c.s.cfg.MaxBodyBuffer > 0 && n > int64(c.s.cfg.MaxBodyBuffer) {
		c.s.inHeld.Add(-d)
		return false
	}
	c.held += d
	return true
}

// answer serves the request just parsed (n bytes of input), inline or
// detached. false: the connection must close.
func (c *conn) answer(n int) bool {
	c.date.Update(time.Now())
	start := len(*c.out)
	c.resp.Reset(*c.out, &c.req, c.date.Bytes())
	if c.s.draining.Load() || c.body != nil {
		// Shutting down; or a streamed body that an inline answer never
		// reads, so the connection cannot go on.
		c.resp.SetClose()
	}
	ok := c.call()
	c.s.stats.requests.Add(1)
	if run := c.detached; run != nil {
		c.detached = nil
		if ok {
			*c.out = (*c.out)[:start]
			keep := c.runDetached(run, c.body != nil || len(*c.in) > c.off+n)
			c.consumed(n)
			return keep
		}
	}
	if !ok {
		c.s.stats.panics.Add(1)
		c.resp.Reset((*c.out)[:start], &c.req, c.date.Bytes())
		c.resp.SetStatus(500)
		c.resp.SetContentType("text/plain; charset=utf-8")
		c.resp.WriteString("Internal Server Error\n")
	}
	*c.out = c.resp.Finish()
	c.answered(&c.req)
	c.consumed(n)
	if c.resp.WillClose() {
		c.flush()
		return false
	}
	if len(*c.out) > c.s.cfg.MaxPendingOutput {
		c.s.stats.paused.Add(1)
		return c.flush() == nil
	}
	return true
}

// consumed moves past an answered request of n bytes, poisoning them first
// with Config.DebugPoisonBuffers.
func (c *conn) consumed(n int) {
	if c.s.cfg.DebugPoisonBuffers {
		poison((*c.in)[c.off : c.off+n])
	}
	c.off += n
}

func poison(b []byte) {
	for i := range b {
		b[i] = 0xdd
	}
}

// call runs the handler; false if it panicked (logged).
func (c *conn) call() (ok bool) {
	defer func() {
		if !ok {
			p := recover()
			c.s.cfg.Logger.Error("handler panic; answered 500", "path", string(c.req.Path),
				"panic", p, "stack", string(debug.Stack()))
		}
	}()
	c.s.cfg.Handler.ServeHTTP(&c.resp, &c.req)
	return true
}

// runDetached has a pool goroutine answer the request and waits for it:
// the output queued before it goes first, then the stream's bytes straight
// to the socket. The request's views stay valid: the input buffer is not
// touched until run returns. buffered: more input follows the request. A
// full pool answers 503, as the io_uring engine does.
func (c *conn) runDetached(run func(engine.Stream), buffered bool) bool {
	if c.flush() != nil {
		return false
	}
	s := &Stream{c: c, req: c.req, run: run, ran: make(chan struct{})}
	if c.s.draining.Load() {
		s.req.Close = true
	}
	s.ctx, s.cancel = context.WithCancel(c.s.base)
	stop := c.watch(s.cancel, buffered)
	if !c.s.cfg.Offload.Submit(s) {
		stop()
		s.cancel()
		return c.rejectBusy()
	}
	<-s.ran
	stop()
	return !s.close
}

// RunJob runs the detached response on a pool goroutine (engine.Job). A
// run that panics or returns without Finish closes the connection: the
// client may have half a response.
func (s *Stream) RunJob() {
	defer close(s.ran)
	defer func() {
		if p := recover(); p != nil {
			s.Logger().Error("detached handler panic; closing", "path", string(s.req.Path),
				"panic", p, "stack", string(debug.Stack()))
		}
		s.Finish(true) // no-op if run finished
	}()
	s.run(s)
}

// rejectBusy answers 503 when the pool's queue is full; false: the
// connection closes (a streamed body was not read).
func (c *conn) rejectBusy() bool {
	c.resp.Reset(*c.out, &c.req, c.date.Bytes())
	if c.body != nil {
		c.resp.SetClose()
	}
	c.resp.SetStatus(503)
	c.resp.SetContentType("text/plain; charset=utf-8")
	_ = c.resp.SetHeader("Retry-After", "1")
	_, _ = c.resp.WriteString(engine.BusyBody)
	*c.out = c.resp.Finish()
	c.answered(&c.req)
	if c.resp.WillClose() {
		c.flush()
		return false
	}
	return true
}

// watch reads one byte in the background while a detached response runs,
// as net/http's background read does: EOF or an error means the client went
// away, and cancel is called. A byte that arrives (a pipelined request) is
// kept for after the response, and the watch ends. stop aborts the read
// (a deadline in the past) and puts the byte back in the input.
func (c *conn) watch(cancel context.CancelFunc, buffered bool) (stop func()) {
	c.peeked = false
	if buffered {
		return func() {} // pipelined requests are already buffered: nothing to watch
	}
	done := make(chan struct{})
	c.nc.SetReadDeadline(time.Time{}) // here, not in the goroutine: stop's deadline must win
	go func() {
		defer close(done)
		n, err := c.nc.Read(c.peek[:])
		switch {
		case n == 1:
			c.peeked = true
		case errors.Is(err, os.ErrDeadlineExceeded):
		default:
			cancel()
		}
	}()
	return func() {
		c.nc.SetReadDeadline(time.Unix(1, 0))
		<-done
		if c.peeked {
			*c.in = append(*c.in, c.peek[0])
		}
	}
}

// write sends p now, after any queued output.
func (c *conn) write(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	n, err := c.nc.Write(p)
	c.countWrite(n, err)
	return n, err
}

// flush writes the queued output.
func (c *conn) flush() error {
	out := *c.out
	if len(out) == 0 {
		return nil
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	n, err := c.nc.Write(out)
	c.countWrite(n, err)
	if cap(out) > 4*bufSize { // a big response grew it: don't keep that much per connection
		out = make([]byte, 0, bufSize)
	}
	*c.out = out[:0]
	return err
}

// refuse answers a request the parser refused, and the connection closes.
func (c *conn) refuse(err error) {
	c.s.stats.badRequests.Add(1)
	status := 400
	var he *http1.Error
	if errors.As(err, &he) {
		status = he.Status
	}
	c.answerClose(status)
}

// answerClose answers status, with its reason as the body, and the
// connection closes.
func (c *conn) answerClose(status int) {
	c.date.Update(time.Now())
	c.resp.Reset(*c.out, nil, c.date.Bytes())
	engine.FrameRefusal(&c.resp, status)
	*c.out = c.resp.Finish()
	c.answered(nil)
	c.flush()
}

// answered counts and logs the response just finished for req (nil:
// refused before its request line was understood). Its duration runs from
// the request's first byte (c.start).
func (c *conn) answered(req *http1.Request) {
	now := time.Now()
	c.s.stats.countResponse(engine.KindPlain, c.resp.Status(), now.Sub(c.start))
	sink := c.s.cfg.AccessLog
	if sink == nil {
		return
	}
	e := accesslog.Entry{Remote: c.peer, Time: now, Duration: now.Sub(c.start),
		Status: c.resp.Status(), BodyBytes: c.resp.BodySent()}
	if req != nil && req.Method != nil {
		e.Method, e.Target, e.ProtoMinor = req.Method, req.Target, req.ProtoMinor
		e.Referer, e.UserAgent = req.Header("Referer"), req.Header("User-Agent")
	}
	sink.Log(&e)
}

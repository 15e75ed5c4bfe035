package worker

import (
	"errors"
	"runtime/debug"

	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
)

// outBufSize is the first output buffer of a connection with something to
// say: a few pipelined small responses fit; bigger ones grow it.
const outBufSize = 16 << 10

// serve answers the request in w.req, just parsed for c: the response is
// appended to c's output buffer and queued to go out at the end of the turn.
func (w *Worker) serve(c *conn) {
	c.clock.on = false // the request is read; the next one starts afresh
	w.tls.cur = c.tls  // for TLSState (tls.go)
	if c.out == nil {
		c.out = w.pool.get(outBufSize)
	}
	w.resp.Pool = &w.pool
	w.resp.Reset(c.out, &w.req, w.date.Bytes())
	if w.mode != runServing || w.streamDec != nil {
		// Shutting down: this is the connection's last response. Or the
		// body is to be streamed (body.go): answered inline instead, it is
		// never read, so the connection cannot go on.
		w.resp.SetClose()
	}
	ok := w.callHandler()
	if w.takeDetach(c, ok) { // the handler called Detach (offload.go)
		return
	}
	if !ok {
		w.stats.inc(cPanics)
		w.resp.Reset(c.out, &w.req, w.date.Bytes())
		w.resp.SetStatus(500)
		w.resp.SetContentType("text/plain; charset=utf-8")
		w.resp.WriteString("Internal Server Error\n")
	}
	w.finish(c)
	w.answered(c, &w.req)
	w.stats.inc(cRequests)
}

// callHandler runs the handler and reports false if it panicked (logged
// with its stack). The deferred closure is open-coded: no allocation unless
// a panic happens.
func (w *Worker) callHandler() (ok bool) {
	defer func() {
		if !ok {
			w.handlerPanicked(recover())
		}
	}()
	w.handler.ServeHTTP(&w.resp, &w.req)
	return true
}

func (w *Worker) handlerPanicked(p any) {
	w.log.Error("handler panic; answered 500", "method", string(w.req.Method),
		"path", string(w.req.Path), "panic", p, "stack", string(debug.Stack()))
	// A response that grew before the panic owns a pool buffer: take it back.
	if out := w.resp.Finish(); w.resp.Grown() {
		w.pool.put(out)
	}
}

// finish takes the completed response into c's output and queues the send.
// If the response outgrew c.out, the old buffer is freed, unless an
// in-flight send still reads it (then it is freed at the send CQE).
func (w *Worker) finish(c *conn) {
	out := w.resp.Finish()
	if w.resp.Grown() {
		w.retireOut(c)
	}
	c.out = out
	if w.resp.WillClose() {
		c.state = stateDraining
		w.dropInput(c)
	}
	w.queueSend(c)
}

// sendContinue answers "Expect: 100-continue" once the head is in.
func (w *Worker) sendContinue(c *conn) {
	if c.out == nil {
		c.out = w.pool.get(outBufSize)
	}
	const cont = "HTTP/1.1 100 Continue\r\n\r\n"
	if cap(c.out)-len(c.out) < len(cont) {
		w.growOut(c, len(cont))
	}
	c.out = append(c.out, cont...)
	w.queueSend(c)
}

// growOut makes room for n more bytes in c.out (the rare path).
func (w *Worker) growOut(c *conn, n int) {
	nb := w.pool.grow(c.out, n)
	w.retireOut(c)
	c.out = nb
}

// retireOut gives c.out back to the pool once it has been replaced by a
// bigger copy, unless an in-flight send still reads it: then it is pinned
// and freed at the send CQE. With one already pinned, the send reads that
// one, not c.out.
func (w *Worker) retireOut(c *conn) {
	if c.sending && c.pinned == nil {
		c.pinned = c.out
		return
	}
	w.pool.put(c.out)
}

// badRequest answers a request the parser refused with its status and
// "Connection: close": after a framing error nobody knows where the next
// request would start.
func (w *Worker) badRequest(c *conn, err error) {
	var he *http1.Error
	status := 400
	if errors.As(err, &he) {
		status = he.Status
	}
	w.refuse(c, status)
}

// refuse answers status with Connection: close and stops reading requests.
func (w *Worker) refuse(c *conn, status int) {
	w.stats.inc(cBadRequests)
	w.answerClose(c, status)
}

// answerClose answers status, with its reason as the body, and
// Connection: close.
func (w *Worker) answerClose(c *conn, status int) {
	if c.out == nil {
		c.out = w.pool.get(outBufSize)
	}
	w.resp.Pool = &w.pool
	w.resp.Reset(c.out, nil, w.date.Bytes())
	engine.FrameRefusal(&w.resp, status)
	w.finish(c)
	w.answered(c, nil)
}

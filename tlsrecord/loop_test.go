package tlsrecord

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// appFunc answers application data arriving on the record path; it appends
// what to send to out. echoApp sends the data back.
type appFunc func(c *Conn, data, out []byte) []byte

func echoApp(c *Conn, data, out []byte) []byte {
	out, _ = c.Seal(out, data)
	return out
}

// served is how one server connection of the test loop went.
type served struct {
	res      *Result
	err      error // the handshake's
	conn     *Conn // the record layer, when res.Record
	serveErr error // how serving ended: io.EOF after the peer's close_notify
}

// testLoop plays the worker for one accepted socket: it alone does socket
// I/O, feeds the handshake, sends its output when woken, and then serves
// app over the record layer (or echoes over the tls.Conn on the fallback
// path). tamper, if set, may alter each chunk received after the handshake.
type testLoop struct {
	a      *Acceptor
	app    appFunc
	tamper func(p []byte)
}

func (l *testLoop) run(nc net.Conn, done chan<- served) {
	defer nc.Close()
	wakeCh := make(chan struct{}, 1)
	wake := func() {
		select {
		case wakeCh <- struct{}{}:
		default:
		}
	}
	in := make(chan []byte, 64)
	go func() {
		defer close(in)
		for {
			p := make([]byte, 32<<10)
			n, err := nc.Read(p)
			if n > 0 {
				in <- p[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	h := l.a.Start(wake, nc.LocalAddr(), nc.RemoteAddr())
	var out []byte
	flush := func() {
		if out = h.Output(out[:0]); len(out) > 0 {
			_, _ = nc.Write(out)
		}
	}
	for !h.Done() {
		select {
		case p, ok := <-in:
			if !ok {
				h.Close()
				<-h.DoneChan()
				break
			}
			_ = h.Feed(p)
		case <-wakeCh:
			flush()
		}
	}
	flush()
	res, err := h.Result()
	if err != nil {
		done <- served{err: err}
		return
	}
	if !res.Record {
		l.fallback(res, h, in, wakeCh, flush)
		done <- served{res: res}
		return
	}
	c, err := NewConn(res.Params)
	if err != nil {
		done <- served{res: res, err: err}
		return
	}
	done <- l.records(res, c, nc, in)
}

// records serves the record path until the peer closes or fails.
func (l *testLoop) records(res *Result, c *Conn, nc net.Conn, in <-chan []byte) served {
	buf := res.Leftover
	if l.tamper != nil && len(buf) > 0 {
		l.tamper(buf)
	}
	var out []byte
	for {
		for {
			data, n, err := c.Open(buf)
			if err != nil {
				out = c.AppendAlert(out[:0])
				if err == io.EOF {
					out = c.AppendCloseNotify(out)
				}
				_, _ = nc.Write(out)
				return served{res: res, conn: c, serveErr: err}
			}
			if n == 0 {
				break
			}
			if len(data) > 0 {
				out = l.app(c, data, out[:0])
			} else {
				out, _ = c.AppendPending(out[:0])
			}
			if len(out) > 0 {
				if _, err := nc.Write(out); err != nil {
					return served{res: res, conn: c, serveErr: err}
				}
			}
			buf = buf[n:]
		}
		p, ok := <-in
		if !ok {
			return served{res: res, conn: c, serveErr: io.ErrUnexpectedEOF}
		}
		if l.tamper != nil {
			l.tamper(p)
		}
		buf = append(append([]byte(nil), buf...), p...)
	}
}

// fallback echoes over crypto/tls on a goroutine while the loop keeps
// moving bytes between the socket and the handshake's transport.
func (l *testLoop) fallback(res *Result, h *Handshake, in <-chan []byte, wakeCh <-chan struct{}, flush func()) {
	go func() {
		_, _ = io.Copy(res.TLS, res.TLS)
		_ = res.TLS.Close()
	}()
	for {
		select {
		case p, ok := <-in:
			if !ok {
				h.Close()
				return
			}
			_ = h.Feed(p)
		case <-wakeCh:
			flush()
		}
	}
}

// startServer accepts one connection on loopback and serves it with l.
func startServer(t *testing.T, l *testLoop) (addr string, done <-chan served) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ch := make(chan served, 1)
	go func() {
		defer ln.Close()
		nc, err := ln.Accept()
		if err != nil {
			ch <- served{err: err}
			return
		}
		l.run(nc, ch)
	}()
	return ln.Addr().String(), ch
}

// dialTLS connects a crypto/tls client and finishes its handshake.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	c := tls.Client(nc, cfg)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	return c, c.Handshake()
}

// wait returns the server side's outcome, failing on a hang.
func wait(t *testing.T, done <-chan served) served {
	t.Helper()
	select {
	case s := <-done:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("server loop hung")
		return served{}
	}
}

// echo writes msg and reads it back concurrently (so big messages cannot
// deadlock on full socket buffers).
func echo(t *testing.T, c *tls.Conn, msg []byte) {
	t.Helper()
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		werr <- err
	}()
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	require.NoError(t, err)
	require.NoError(t, <-werr)
	require.Equal(t, msg, got)
}

package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pumped is a TLS 1.2 server Conn served over a Handshake's transport,
// with the loop's side played by two goroutines (socket to Feed, Output to
// socket) over a net.Pipe to a crypto/tls client.
type pumped struct {
	h      *Handshake
	srv    *tls.Conn
	cli    *tls.Conn
	woken  atomic.Int64
	closed chan struct{} // the pump saw ConnClosed
}

func newPumped(t *testing.T) *pumped {
	f := newFixture(t)
	f.client.MaxVersion = tls.VersionTLS12
	sp, cp := net.Pipe()
	t.Cleanup(func() { sp.Close(); cp.Close() })
	p := &pumped{closed: make(chan struct{})}
	wakeCh := make(chan struct{}, 1)
	p.h = NewAcceptor(f.server, 0).Start(func() {
		p.woken.Add(1)
		select {
		case wakeCh <- struct{}{}:
		default:
		}
	}, sp.LocalAddr(), sp.RemoteAddr())
	go func() { // socket -> Feed
		buf := make([]byte, 32<<10)
		for {
			n, err := sp.Read(buf)
			if n > 0 {
				p.h.Feed(buf[:n])
			}
			if err != nil {
				p.h.FeedEOF()
				return
			}
		}
	}()
	go func() { // Output -> socket
		var out []byte
		for range wakeCh {
			closed := p.h.ConnClosed()
			if out = p.h.Output(out[:0]); len(out) > 0 {
				if _, err := sp.Write(out); err != nil {
					return
				}
			}
			if closed && !p.h.HasOutput() {
				close(p.closed)
				sp.Close()
				return
			}
		}
	}()
	p.cli = tls.Client(cp, f.client)
	require.NoError(t, p.cli.Handshake())
	select {
	case <-p.h.DoneChan():
	case <-time.After(10 * time.Second):
		t.Fatal("handshake did not finish")
	}
	res, err := p.h.Result()
	require.NoError(t, err)
	require.False(t, res.Record)
	p.srv = res.TLS
	return p
}

// TestServedConnDeadlines: a Read past its deadline fails with a timeout
// and the Conn goes on; a deadline set while a Read waits wakes it.
func TestServedConnDeadlines(t *testing.T) {
	p := newPumped(t)
	require.NoError(t, p.srv.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := p.srv.Read(make([]byte, 10))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout())

	require.NoError(t, p.srv.SetReadDeadline(time.Time{}))
	got := make(chan error, 1)
	go func() { _, err := p.srv.Read(make([]byte, 10)); got <- err }()
	time.Sleep(10 * time.Millisecond) // the Read is (likely) waiting; either way it must fail
	require.NoError(t, p.srv.SetReadDeadline(time.Unix(1, 0)))
	select {
	case err := <-got:
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	case <-time.After(10 * time.Second):
		t.Fatal("a past deadline did not wake the Read")
	}

	require.NoError(t, p.srv.SetReadDeadline(time.Time{}))
	go p.cli.Write([]byte("still usable"))
	buf := make([]byte, 64)
	n, err := p.srv.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "still usable", string(buf[:n]))
}

// TestServedConnOutputIsBounded: with LimitOutput, the transport never
// holds more than the limit plus one record, however much the Conn writes
// and however slowly the client reads; everything arrives intact.
func TestServedConnOutputIsBounded(t *testing.T) {
	p := newPumped(t)
	const limit = 4 << 10
	p.h.LimitOutput(limit)
	msg := randomBytes(1 << 20)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // samples the transport's output
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.h.t.mu.Lock()
			n := int64(len(p.h.t.out))
			p.h.t.mu.Unlock()
			if n > peak.Load() {
				peak.Store(n)
			}
		}
	}()
	go func() { p.srv.Write(msg) }()
	got := make([]byte, len(msg))
	for off := 0; off < len(got); {
		n, err := p.cli.Read(got[off:min(off+1000, len(got))]) // a slow reader
		require.NoError(t, err)
		off += n
	}
	close(stop)
	wg.Wait()
	require.True(t, bytes.Equal(msg, got))
	require.LessOrEqual(t, peak.Load(), int64(limit+MaxPlaintext+256+HeaderLen), "output held past the limit")
}

// TestServedConnEOFAndClose: the socket's EOF (FeedEOF) reads as io.EOF
// after what came before it; closing the Conn sends its close_notify and
// tells the loop (ConnClosed, with a wake).
func TestServedConnEOFAndClose(t *testing.T) {
	p := newPumped(t)
	go p.cli.Write([]byte("last words"))
	buf := make([]byte, 64)
	n, err := p.srv.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "last words", string(buf[:n]))
	p.h.FeedEOF()
	_, err = p.srv.Read(buf)
	require.ErrorIs(t, err, io.EOF)

	before := p.woken.Load()
	require.False(t, p.h.ConnClosed())
	cliErr := make(chan error, 1)
	go func() { _, err := p.cli.Read(make([]byte, 1)); cliErr <- err }()
	require.NoError(t, p.srv.Close())
	select {
	case <-p.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not hear of the close")
	}
	require.Greater(t, p.woken.Load(), before)
	require.ErrorIs(t, <-cliErr, io.EOF, "the server's close_notify")
}

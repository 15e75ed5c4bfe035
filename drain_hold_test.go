package uringd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/proxyproto"
)

// A graceful shutdown holds a fresh connection (nothing received since its
// accept) for engine.FreshHold, but not one that sent bytes that are no
// request: those are idle and closed at once. Both tests show it by order:
// the connection under test is accepted after a fresh one, so if it were
// held as fresh its hold would end after the fresh one's; it is closed
// while the fresh one is still held and then gets its first request
// answered (Connection: close).

// drainServer starts a one-worker server (accepts in order) with cfg.
func drainServer(t *testing.T, cfg uringd.Config) *uringd.Server {
	cfg.Workers = 1
	s, err := uringd.New(cfg)
	require.NoError(t, err)
	testRoutes(s)
	require.NoError(t, s.Start())
	return s
}

// shutdownAsync starts a graceful shutdown and returns its result channel.
func shutdownAsync(s *uringd.Server) chan error {
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	return done
}

func requireShutdownEnds(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}

// requireHeldAndAnswered: fresh, silent so far, still takes its first
// request (after prefix; over TLS when cc is set, after a pause between
// the handshake and the request, as a slow client makes) and gets it
// answered with Connection: close.
func requireHeldAndAnswered(t *testing.T, fresh net.Conn, prefix []byte, cc *tls.Config) {
	t.Helper()
	c := fresh
	if cc != nil {
		tc := tls.Client(fresh, cc)
		require.NoError(t, tc.Handshake(), "the fresh connection is still held")
		// Twenty of the drain's ticks (10 ms each) without plaintext,
		// well within engine.FreshHold: not what the test waits for.
		time.Sleep(200 * time.Millisecond)
		c = tc
	}
	// One write: a PROXY header alone would make it a connection without
	// a request that is not fresh any more.
	_, err := c.Write(append(prefix[:len(prefix):len(prefix)], helloReq...))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err, "the fresh connection's first request is answered")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "Hello, World!", string(b))
	require.True(t, resp.Close, "Connection: close: the server is draining")
}

// TestDrainClosesStalledHandshakeAtOnce: a connection whose TLS handshake
// is under way when the shutdown begins (its ClientHello in, nothing more)
// has no plaintext but is not fresh (io_uring: conn.got, not conn.rx;
// netpoll: rawConn.early): the drain closes it at once, not after
// engine.FreshHold. A fresh connection held by the drain (its ClientHello
// not sent yet) that then does its handshake (on io_uring TLS 1.3 on the
// record path, 1.2 on a goroutine) stays held until its first request
// comes (conn.heldFresh; netpoll freshNow), and has it answered (the 1.2
// one by a goroutine server of its own, draining: worker tlsServe).
func TestDrainClosesStalledHandshakeAtOnce(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.TLS = tlsServerConfig(t)
		cfg.HandshakeTimeout = time.Minute // the drain closes it, not this
		s := drainServer(t, cfg)
		cc12 := tlsClientConfig()
		cc12.MaxVersion = tls.VersionTLS12
		// An idle TLS 1.2 connection, closed by the drain: the worker's
		// goroutine server has drained when fresh12's handshake ends.
		idle12 := tlsRaw(t, dialTLS(t, s, cc12))
		idle12.send(helloReq)
		idle12.response("GET")
		fresh13, fresh12 := dial(t, s), dial(t, s)
		stalled := dial(t, s)
		_, err := stalled.Write(clientHello(t))
		require.NoError(t, err)
		_, err = io.ReadFull(stalled, make([]byte, 1)) // the handshake is under way
		require.NoError(t, err)

		done := shutdownAsync(s)
		readUntilClosed(t, stalled.Conn)
		idle12.expectClosed()
		requireHeldAndAnswered(t, fresh13.Conn, nil, tlsClientConfig())
		requireHeldAndAnswered(t, fresh12.Conn, nil, cc12)
		requireShutdownEnds(t, done)
	})
}

// TestDrainClosesProxyHeaderOnlyAtOnce: a connection from a ProxyFrom
// address that sent its whole PROXY header and no request is not fresh
// (on netpoll, proxyHeader sets got; the worker counts any received byte):
// the drain closes it at once, while a fresh connection (from an address
// that sends no header) is still held. One whose header is only partly in
// has not ended its header: it waits for the rest and is answered.
func TestDrainClosesProxyHeaderOnlyAtOnce(t *testing.T) {
	allow, err := proxyproto.ParseAllow("127.0.0.1/32") // the fresh connection comes from 127.0.0.2
	require.NoError(t, err)
	header := proxyproto.AppendV1(nil, proxyproto.Header{
		Source: netip.MustParseAddrPort("203.0.113.9:4242"), Dest: netip.MustParseAddrPort("192.0.2.1:80")})
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		cfg.ProxyProtocolFrom = allow
		s := drainServer(t, cfg)
		// Not from a ProxyFrom address: a connection from one waits in its
		// header's read, which netpoll never takes for idle, fresh or not.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 10 * time.Second}
		fresh, err := d.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { fresh.Close() })
		fresh.SetDeadline(time.Now().Add(20 * time.Second))
		partial := dial(t, s)
		headerOnly := dial(t, s)
		before := s.Stats().Total.BytesIn
		partial.send(string(header[:10]))
		headerOnly.send(string(header))
		require.Eventually(t, func() bool { return s.Stats().Total.BytesIn >= before+10+uint64(len(header)) },
			10*time.Second, time.Millisecond)

		done := shutdownAsync(s)
		readUntilClosed(t, headerOnly.Conn)
		requireHeldAndAnswered(t, fresh, nil, nil)
		partial.send(string(header[10:]) + helloReq)
		resp, body := partial.response("GET")
		require.Equal(t, "Hello, World!", body)
		require.True(t, resp.Close)
		requireShutdownEnds(t, done)
	})
}

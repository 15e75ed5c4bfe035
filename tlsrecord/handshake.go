package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// DefaultHandshakeTimeout bounds a handshake when the Acceptor sets none.
const DefaultHandshakeTimeout = 10 * time.Second

// Acceptor starts server handshakes for one listener. All its handshakes
// share one tls.Config, and with it the automatic session ticket keys, so a
// ticket from one connection resumes on another.
type Acceptor struct {
	user    *tls.Config   // the caller's config; immutable
	base    *tls.Config   // user's clone that routes each handshake through configFor
	timeout time.Duration // immutable
}

// NewAcceptor returns an Acceptor serving cfg, which must not be modified
// afterwards (as crypto/tls requires). A handshake that has not finished
// after timeout fails (0 means DefaultHandshakeTimeout). An Acceptor is
// safe for concurrent use: share one among all workers of a listener, or a
// ticket issued by one worker does not resume on another (SO_REUSEPORT
// spreads a client's connections). Bounding concurrent handshakes is the
// caller's: a worker counts its own.
//
// cfg's callbacks see a ClientHelloInfo whose Conn is this package's
// in-memory transport, with the addresses given to Start.
func NewAcceptor(cfg *tls.Config, timeout time.Duration) *Acceptor {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	a := &Acceptor{user: cfg, timeout: timeout}
	a.base = cfg.Clone()
	a.base.GetConfigForClient = a.configFor
	return a
}

// configFor gives each handshake a config whose KeyLogWriter captures that
// handshake's secrets. Ticket keys still come from a.base (crypto/tls uses
// the original config's keys unless the returned one sets its own).
func (a *Acceptor) configFor(hi *tls.ClientHelloInfo) (*tls.Config, error) {
	t, ok := hi.Conn.(*transport)
	if !ok {
		return nil, errors.New("tlsrecord: Acceptor config used outside a Handshake")
	}
	cfg := a.user
	if a.user.GetConfigForClient != nil {
		c, err := a.user.GetConfigForClient(hi)
		if err != nil {
			return nil, err
		}
		if c != nil {
			cfg = c
		}
	}
	cl := cfg.Clone()
	cl.GetConfigForClient = nil
	cl.KeyLogWriter = &t.keys
	t.keys.tee = cfg.KeyLogWriter
	return cl, nil
}

// keyLog keeps the application traffic secrets crypto/tls logs for one
// handshake. Only the handshake goroutine writes it.
type keyLog struct {
	tee            io.Writer // the caller's own KeyLogWriter, if any
	client, server []byte
}

func (k *keyLog) Write(line []byte) (int, error) {
	// crypto/tls writes one "LABEL <client_random> <secret>\n" per call.
	f := bytes.Fields(line)
	if len(f) == 3 {
		var dst *[]byte
		switch string(f[0]) {
		case "CLIENT_TRAFFIC_SECRET_0":
			dst = &k.client
		case "SERVER_TRAFFIC_SECRET_0":
			dst = &k.server
		}
		if dst != nil {
			s, err := hex.DecodeString(string(f[2]))
			if err != nil {
				return 0, err
			}
			*dst = s
		}
	}
	if k.tee != nil {
		return k.tee.Write(line)
	}
	return len(line), nil
}

// Result is a finished handshake.
type Result struct {
	State tls.ConnectionState
	// Record says the record layer can take over: build it with
	// NewConn(Params), first Open Leftover, then what the socket receives.
	Record   bool
	Params   Params
	Leftover []byte
	// When !Record, Why says why, and TLS is the connection to keep
	// serving on a goroutine; the loop keeps calling Feed and Output.
	Why string
	TLS *tls.Conn
}

// Handshake is one server handshake in progress. The loop calls Feed with
// what the socket receives and, whenever the wake callback has run, Output
// for what to send and Done to learn whether it finished.
type Handshake struct {
	t     *transport // immutable
	tc    *tls.Conn  // immutable
	timer *time.Timer
	done  chan struct{} // closed when the handshake goroutine is finished

	mu  sync.Mutex
	res *Result // guarded by mu; set with done
	err error   // guarded by mu
}

// Start begins a handshake on its own goroutine. wake is called from that
// goroutine whenever there is output to send or the handshake has finished;
// it must not block (e.g. signal an eventfd or a buffered channel). local
// and remote are the socket's addresses, for ClientHelloInfo.
func (a *Acceptor) Start(wake func(), local, remote net.Addr) *Handshake {
	t := newTransport(wake, local, remote)
	h := &Handshake{t: t, tc: tls.Server(t, a.base), done: make(chan struct{})}
	h.timer = time.AfterFunc(a.timeout, func() { t.closeWith(errTimeout) })
	go h.run()
	return h
}

func (h *Handshake) run() {
	err := h.tc.Handshake()
	if !h.timer.Stop() && err == nil {
		// The timeout fired as the handshake ended and closed (or is
		// closing) the transport: fail rather than hand over a dead Conn.
		err = errTimeout
	}
	var res *Result
	if err == nil {
		res = h.handOff()
	}
	h.mu.Lock()
	h.res, h.err = res, err
	h.mu.Unlock()
	close(h.done)
	h.t.wake()
}

// Feed passes bytes the socket received (copied; p may be reused). After a
// hand-off to the record layer it returns ErrHandedOff.
func (h *Handshake) Feed(p []byte) error { return h.t.feed(p) }

// Output appends the bytes to send to dst and returns it. After a failure
// it may hold the alert crypto/tls sent: send it before closing.
func (h *Handshake) Output(dst []byte) []byte { return h.t.output(dst) }

// HasOutput reports whether Output has bytes.
func (h *Handshake) HasOutput() bool { return h.t.pending() }

// DoneChan is closed when the handshake has finished, for callers that wait
// on a goroutine rather than through wake.
func (h *Handshake) DoneChan() <-chan struct{} { return h.done }

// Done reports whether the handshake has finished; it never blocks.
func (h *Handshake) Done() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// Result returns the handshake's outcome once Done. With Record it also
// hands the received bytes beyond the handshake to the caller (in
// Leftover), and Feed refuses more: they now go to the record layer. Drain
// Output first: it holds the last handshake records, which precede
// anything the record layer seals.
func (h *Handshake) Result() (*Result, error) {
	if !h.Done() {
		return nil, errors.New("tlsrecord: handshake not finished")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil || !h.res.Record {
		return h.res, h.err
	}
	t := h.t
	t.mu.Lock()
	if !t.handedOff {
		t.handedOff = true
		h.res.Leftover = append([]byte(nil), t.in...)
		t.in = nil
	}
	t.mu.Unlock()
	return h.res, nil
}

// Close abandons the handshake (the peer went away, the server stops) and
// releases its goroutine.
func (h *Handshake) Close() {
	h.timer.Stop()
	h.t.closeWith(net.ErrClosed)
}

// handOff decides, on the handshake goroutine right after a successful
// handshake, whether the record layer can take over, and with which
// sequence numbers.
func (h *Handshake) handOff() *Result {
	t := h.t
	res := &Result{State: h.tc.ConnectionState(), TLS: h.tc}
	t.mu.Lock()
	defer t.mu.Unlock()
	rlog, wlog, boundary := t.rlog, t.wlog, t.recLeft == 0
	t.logging, t.rlog, t.wlog = false, nil, nil
	keys := &t.keys
	switch {
	case res.State.Version != tls.VersionTLS13:
		res.Why = "TLS version " + tls.VersionName(res.State.Version) + " has no record path"
	case !Supported(res.State.CipherSuite):
		res.Why = "cipher suite " + tls.CipherSuiteName(res.State.CipherSuite) + " has no record path"
	case keys.client == nil || keys.server == nil:
		res.Why = "traffic secrets were not logged"
	case !boundary:
		res.Why = "crypto/tls stopped inside a record"
	default:
		s := suiteByID(res.State.CipherSuite)
		rseq, rok := countRecords(s, keys.client, rlog)
		wseq, wok := countRecords(s, keys.server, wlog)
		if !rok || !wok {
			res.Why = "could not account for the records crypto/tls protected"
			break
		}
		res.Record, res.TLS = true, nil
		res.Params = Params{Suite: s.id, ReadSecret: keys.client, WriteSecret: keys.server, ReadSeq: rseq, WriteSeq: wseq}
	}
	return res
}

// countRecords returns how many records of the stream log are protected by
// the application traffic secret: crypto/tls's sequence number for that key
// at hand-off. Earlier records use the handshake keys (or none), so the
// count starts at the first record that opens with sequence 0; every later
// one must open too, and the log must end on a record boundary.
func countRecords(s *suite, secret, log []byte) (uint64, bool) {
	var h halfConn
	if h.setSecret(s, secret) != nil {
		return 0, false
	}
	var scratch []byte
	started := false
	for len(log) > 0 {
		if len(log) < HeaderLen {
			return 0, false
		}
		n := HeaderLen + (int(log[3])<<8 | int(log[4]))
		if len(log) < n {
			return 0, false
		}
		rec := log[:n]
		log = log[n:]
		if rec[0] != typeApplicationData {
			if started {
				return 0, false
			}
			continue // plaintext ServerHello, ChangeCipherSpec
		}
		scratch = append(scratch[:0], rec[HeaderLen:]...)
		_, err := h.aead.Open(scratch[:0], h.nextNonce(), scratch, rec[:HeaderLen])
		switch {
		case err == nil:
			started = true
			h.seq++
		case started:
			return 0, false
		}
	}
	return h.seq, true
}

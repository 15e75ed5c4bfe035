package worker

import (
	"net/netip"
	"time"

	"github.com/uringd/uringd/http1"
)

// connState is a connection's place in its lifecycle:
//
//	free ──accept──▶ open ──request says close / bad request / drain──▶ draining
//	open ──EOF, error, timeout, force──▶ closing
//	draining ──all output sent──▶ lingering ──EOF, error, linger timeout──▶ closing
//	draining ──error, timeout, force──▶ closing
//	closing ──close CQE (no op in flight)──▶ free
//
// open reads, parses and answers requests (keep-alive). draining parses no
// more requests: it only sends what is queued, then shuts down the write side
// (SHUT_WR) and lingers, reading and discarding, so that the client reads the
// last response before the close rather than a reset. closing is absorbing:
// pending recv/send are cancelled and, once no op is in flight, the fd is
// closed through the ring; the close CQE frees the slot and bumps its
// generation so that late CQEs for the old connection are dropped.
type connState uint8

const (
	stateFree connState = iota
	stateOpen
	stateDraining
	stateLingering
	stateClosing
)

var stateNames = [...]string{"free", "open", "draining", "lingering", "closing"}

func (s connState) String() string { return stateNames[s] }

// conn is one client connection. It is owned by its worker's thread; nothing
// here is shared. An idle keep-alive connection holds only this struct: the
// input and output buffers come from the worker's pool when there are bytes
// to keep and go back as soon as they are empty.
type conn struct {
	fd    int32
	slot  uint32 // index in the worker's table; immutable
	gen   uint32 // generation of the slot, in user_data; bumped when freed
	state connState

	inflight    uint8 // submitted ops without their final CQE (multishot recv counts once)
	cancels     uint8 // async cancels of this connection's recv/send in flight
	recvArmed   bool  // a recv (single or multishot) is in flight
	sending     bool  // a send is in flight: out[sent:sendEnd] is pinned
	sendQueued  bool  // in the worker's sendQ for this loop turn
	rearmQueued bool  // in the worker's rearmQ (ENOBUFS: re-arm recv at the end of the turn)
	paused      bool  // backpressure: not parsing or reading until output drains
	closeSent   bool  // the close SQE is submitted
	inRequest   bool  // part of a request is buffered in in
	peerEOF     bool  // the client shut its write side; what it sent before is still answered (recv.go), and a detached response still goes out (offload.go)
	noBufs      bool  // the last recv met an empty classic group: the next reads into rbuf
	polling     bool  // the armed "recv" is a poll that holds no buffer (armClassic)
	readable    bool  // that poll fired: the next recv reads into rbuf

	reqStart uint64         // tick at which the partial request in `in` began (header timeout)
	reqAt    time.Duration  // Worker.turn at which the request being read began arriving (0: none yet)
	peer     netip.AddrPort // the client, read once for the access log (peerOK)
	peerOK   bool
	got      bool // a byte was received: not fresh (drainConn)
	// heldFresh: a graceful shutdown holds c as fresh (drainConn); it
	// stays held while no plaintext comes, through its TLS handshake.
	heldFresh bool
	// proxyWait: the connection must begin with a PROXY header, not read
	// yet (proxy.go).
	proxyWait bool
	rx        uint64    // bytes received on the connection
	clock     bodyClock // the read of the current request's body (timeout.go)

	// in holds bytes received but not yet consumed: the start of a request
	// whose end is still to come (the stitch buffer, the rare path). nil when
	// empty. Requests are otherwise parsed straight out of the kernel's
	// receive buffer.
	in       []byte
	inCharge int // cap(in) as counted in the worker's budget for input (chargeIn)
	// rbuf is the connection's own receive buffer while its recv reads into
	// it rather than into the group (armRecv); nil otherwise.
	rbuf []byte
	// out holds responses: out[:sent] went out, out[sent:sendEnd] is being
	// sent (pinned: never moved or reused until the send CQE), out[sendEnd:]
	// was produced since. nil when everything was sent.
	out     []byte
	sent    int
	sendEnd int
	// pinned is a previous output buffer that an in-flight send still reads
	// (out outgrew it while the send was in flight); freed at the send CQE.
	pinned []byte

	parser http1.Parser

	// stream is the response being produced off the worker (offload.go);
	// while set, requests pipelined behind it wait unparsed in in.
	stream *Stream

	tls *tlsConn // a TLS connection's handshake or record layer (tls.go); nil over cleartext
}

// pending is the number of output bytes not yet acknowledged by a send CQE.
func (c *conn) pending() int { return len(c.out) - c.sent }

// table is a worker's connections, indexed by slot. Slots are reused LIFO;
// their conn structs are allocated once and kept, so steady-state accepts do
// not allocate.
type table struct {
	conns []*conn
	free  []uint32
	open  int
}

func (t *table) at(slot uint32) *conn {
	if int(slot) < len(t.conns) {
		return t.conns[slot]
	}
	return nil
}

// alloc returns a free conn in state open, with a generation unique to this
// use of the slot.
func (t *table) alloc(fd int32) *conn {
	var c *conn
	if n := len(t.free); n > 0 {
		c = t.conns[t.free[n-1]]
		t.free = t.free[:n-1]
	} else {
		c = &conn{slot: uint32(len(t.conns))}
		t.conns = append(t.conns, c)
	}
	gen := c.gen
	*c = conn{fd: fd, slot: c.slot, gen: gen, state: stateOpen, parser: c.parser}
	t.open++
	return c
}

// release frees c's slot. The caller has returned its buffers and made sure
// no op is in flight.
func (t *table) release(c *conn) {
	if c.inflight != 0 || c.in != nil || c.out != nil || c.pinned != nil || c.rbuf != nil || c.inCharge != 0 {
		panic("uringd: releasing a connection with ops or buffers: " + c.state.String())
	}
	c.gen = (c.gen + 1) & genMask
	c.state = stateFree
	c.fd = -1
	t.free = append(t.free, c.slot)
	t.open--
}

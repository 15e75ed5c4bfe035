//go:build !race

package uringd_test

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
	"github.com/uringd/uringd/tlsrecord"
)

// TestTLSZeroAllocsPerRequest counts every heap allocation in the process
// over 10,000 keep-alive requests on a warm TLS 1.3 connection to the
// io_uring engine's record path, as TestZeroAllocsPerRequest does over
// cleartext. The client allocates nothing per request (tlsClient), so the
// count is the server's: it must stay at 0 (a fixed slack for the
// runtime's thread starts).
func TestTLSZeroAllocsPerRequest(t *testing.T) {
	for _, m := range uringd.TestModes {
		if m.Engine != uringd.EngineIOUring {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			cfg := testConfig(m)
			cfg.DebugPoisonBuffers = false
			cfg.Logger = testLogger(t)
			cfg.TLS = tlsServerConfig(t)
			cfg.TLS.SessionTicketsDisabled = true // no record after the handshake (newTLSClient)
			s := startTLSServer(t, cfg, nil)
			reqs := []struct{ name, req, body string }{
				{"GET_hello", helloReq, "Hello, World!"},
				{"POST_echo", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef", "0123456789abcdef"},
				{"pipelined_8", string(bytes.Repeat([]byte(helloReq), 8)), "Hello, World!"},
			}
			for _, rq := range reqs {
				t.Run(rq.name, func(t *testing.T) {
					c := newTLSClient(t, s, rq.req, rq.body)
					for i := 0; i < 1000; i++ {
						c.roundTrip(t)
					}
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					const n = 10000
					for i := 0; i < n; i++ {
						c.roundTrip(t)
					}
					runtime.ReadMemStats(&after)
					mallocs := after.Mallocs - before.Mallocs
					t.Logf("%d mallocs over %d TLS round trips (%s), client and server", mallocs, n, rq.name)
					require.LessOrEqual(t, mallocs, uint64(runtimeThreadSlack), "allocations per TLS request must be 0")
				})
			}
		})
	}
}

// tlsClient is rawSyscallClient over TLS 1.3: crypto/tls's client does the
// handshake (its KeyLogWriter gives the traffic secrets), then the records
// are sealed and opened with tlsrecord on preallocated buffers, because
// crypto/tls's own Read allocates once per call (readFromUntil), which
// would hide the server's count. The server issues no session tickets
// here, so no record follows the handshake and both sequence numbers
// start at 0.
type tlsClient struct {
	nc     net.Conn
	rec    *tlsrecord.Conn
	req    []byte
	wire   []byte
	in     []byte
	plain  []byte
	suffix []byte
	count  int
}

type secretLog struct{ client, server []byte }

func (k *secretLog) Write(line []byte) (int, error) {
	f := bytes.Fields(line)
	if len(f) == 3 {
		s, _ := hex.DecodeString(string(f[2]))
		switch string(f[0]) {
		case "CLIENT_TRAFFIC_SECRET_0":
			k.client = s
		case "SERVER_TRAFFIC_SECRET_0":
			k.server = s
		}
	}
	return len(line), nil
}

func newTLSClient(t testing.TB, s *uringd.Server, req, body string) *tlsClient {
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	var keys secretLog
	cc := tlsClientConfig()
	cc.KeyLogWriter = &keys
	c := tls.Client(nc, cc)
	require.NoError(t, c.Handshake())
	st := c.ConnectionState()
	require.Equal(t, uint16(tls.VersionTLS13), st.Version)
	rec, err := tlsrecord.NewConn(tlsrecord.Params{Suite: st.CipherSuite, ReadSecret: keys.server, WriteSecret: keys.client})
	require.NoError(t, err)
	nc.SetDeadline(time.Now().Add(time.Minute))
	return &tlsClient{nc: nc, rec: rec, req: []byte(req), wire: make([]byte, 0, 64<<10), in: make([]byte, 0, 64<<10),
		plain: make([]byte, 0, 64<<10), suffix: []byte("\r\n\r\n" + body), count: bytes.Count([]byte(req), []byte("HTTP/1.1\r\n"))}
}

func (c *tlsClient) roundTrip(t testing.TB) {
	w, err := c.rec.Seal(c.wire[:0], c.req)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	if _, err := c.nc.Write(w); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.plain = c.plain[:0]
	for {
		m, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
		if err != nil || m <= 0 {
			t.Fatalf("read: %d, %v", m, err)
		}
		c.in = c.in[:len(c.in)+m]
		off := 0
		for {
			data, n, err := c.rec.Open(c.in[off:])
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if n == 0 {
				break
			}
			c.plain = append(c.plain, data...)
			off += n
		}
		c.in = c.in[:copy(c.in, c.in[off:])]
		if bytes.HasSuffix(c.plain, c.suffix) && bytes.Count(c.plain, c.suffix) == c.count {
			return
		}
	}
}

package tlsrecord_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"

	"github.com/uringd/uringd/tlsrecord"
)

// Example shows the loop's side: it alone touches the socket, feeds the
// handshake what arrives, sends what Output returns when woken, and after
// the hand-off opens and seals records itself.
func Example() {
	cfg := &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
	acceptor := tlsrecord.NewAcceptor(cfg, 5*time.Second)

	server, client := net.Pipe()
	go func() { // a crypto/tls client says hello and hangs up
		c := tls.Client(client, &tls.Config{InsecureSkipVerify: true})
		c.Write([]byte("hello"))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		fmt.Printf("client got %q\n", buf[:n])
		c.Close()
	}()

	// The socket reader; a worker gets these bytes from recv completions.
	recv := make(chan []byte)
	go func() {
		for {
			p := make([]byte, 16<<10)
			n, err := server.Read(p)
			if err != nil {
				close(recv)
				return
			}
			recv <- p[:n]
		}
	}()

	woken := make(chan struct{}, 1)
	h := acceptor.Start(func() {
		select { // never block the handshake goroutine
		case woken <- struct{}{}:
		default:
		}
	}, server.LocalAddr(), server.RemoteAddr())
	send := func(p []byte) {
		if len(p) > 0 {
			server.Write(p)
		}
	}
	for !h.Done() {
		select {
		case p := <-recv:
			h.Feed(p)
		case <-woken:
			send(h.Output(nil))
		}
	}
	send(h.Output(nil)) // the last handshake records go before any sealed one
	res, err := h.Result()
	if err != nil || !res.Record {
		fmt.Println("no record path:", err, res.Why) // keep serving through res.TLS
		return
	}
	conn, _ := tlsrecord.NewConn(res.Params)
	fmt.Println("record path, TLS 1.3:", res.State.Version == tls.VersionTLS13)

	buf := res.Leftover
	for {
		data, n, err := conn.Open(buf) // decrypts in place
		if err == io.EOF {
			send(conn.AppendCloseNotify(nil))
			fmt.Println("peer sent close_notify")
			return
		}
		if err != nil {
			send(conn.AppendAlert(nil))
			fmt.Println("closing:", err)
			return
		}
		if n == 0 { // need more bytes
			p, ok := <-recv
			if !ok {
				return
			}
			buf = append(buf, p...)
			continue
		}
		if len(data) > 0 {
			out, _ := conn.Seal(nil, append([]byte("echo: "), data...))
			send(out)
		}
		buf = buf[n:]
	}
	// Output:
	// record path, TLS 1.3: true
	// client got "echo: hello"
	// peer sent close_notify
}

func selfSigned() tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/uringd/uringd/bench/internal/routes"
)

// exchange is one request and the body its answer must carry.
type exchange struct {
	method, path, body, want string
}

// checkServer verifies, before any load, that the server answers every route
// correctly: once through Go's HTTP client and once with all requests
// pipelined in a single write (each must get its own answer, in order). A
// server that fails is not measured: fast wrong answers are not results.
func checkServer(port int, s *server) error {
	ex := []exchange{
		{"GET", "/", "", routes.HelloBody},
		{"GET", "/fibonacci", "", routes.FibonacciBody()},
	}
	if s.echo {
		upload := strings.Repeat("0123456789abcdef", 64<<10/16) // spans many reads
		ex = append(ex, exchange{"POST", "/echo", upload, upload},
			exchange{"POST", "/echo", "ping", "ping"})
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, e := range ex {
		req, err := http.NewRequest(e.method, base+e.path, strings.NewReader(e.body))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %v", e.method, e.path, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := compare(e, resp.StatusCode, got, err); err != nil {
			return err
		}
	}
	return checkPipelined(func() (net.Conn, error) {
		return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	}, ex)
}

// checkPipelined writes every request of ex in one write on a connection
// from dial (TCP, or TLS over it) and reads the answers.
func checkPipelined(dial func() (net.Conn, error), ex []exchange) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var batch bytes.Buffer
	for _, e := range ex {
		fmt.Fprintf(&batch, "%s %s HTTP/1.1\r\nHost: bench\r\n", e.method, e.path)
		if e.method == "POST" {
			fmt.Fprintf(&batch, "Content-Length: %d\r\n", len(e.body))
		}
		batch.WriteString("\r\n" + e.body)
	}
	// Write from a goroutine: a server that answers while the batch is still
	// arriving must not deadlock against a client that is not reading yet.
	werr := make(chan error, 1)
	go func() { _, err := c.Write(batch.Bytes()); werr <- err }()
	br := bufio.NewReader(c)
	for i, e := range ex {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("pipelined request %d (%s %s): %v", i+1, e.method, e.path, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := compare(e, resp.StatusCode, got, err); err != nil {
			return fmt.Errorf("pipelined request %d: %v", i+1, err)
		}
	}
	return <-werr
}

func compare(e exchange, status int, got []byte, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s: reading body: %v", e.method, e.path, err)
	}
	if status != 200 {
		return fmt.Errorf("%s %s: status %d", e.method, e.path, status)
	}
	if string(got) != e.want {
		return fmt.Errorf("%s %s: body %q, want %q", e.method, e.path, clip(got), clip([]byte(e.want)))
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

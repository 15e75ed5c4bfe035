// Command loadgen is the load of the HAProxy recipe (deploy/haproxy/run.sh):
// clients on keep-alive connections (some pipelining), and clients opening
// a new connection per request, against uringd's demo routes through a
// load balancer, each response checked whole (status, body) until SIGINT
// or SIGTERM. Any error or wrong answer is a failure; there are no silent
// retries (a raw HTTP/1.1 client, not net/http's Transport, which replays
// some failed requests on its own). It binds its connections to -source,
// so that uringd's access log can show it was the PROXY header's address.
//
//	loadgen -url 127.0.0.1:18080 -source 127.0.0.2 -summary out.json
//
// It prints one summary line and writes it as JSON to -summary; the exit
// status is 1 when a request failed.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Summary is what loadgen measured.
type Summary struct {
	Requests  int64    `json:"requests"`
	OK        int64    `json:"ok"`
	Failed    int64    `json:"failed"`
	KeepAlive int64    `json:"keepalive"` // requests on a reused connection
	NewConn   int64    `json:"newconn"`   // requests on a connection of their own
	Pipelined int64    `json:"pipelined"` // requests sent behind another one not yet answered
	Conns     int64    `json:"conns"`     // connections opened
	Seconds   float64  `json:"seconds"`
	Errors    []string `json:"errors,omitempty"` // the first few failures
}

type counters struct {
	requests, ok, failed, keepAlive, newConn, pipelined, conns atomic.Int64
	mu                                                         sync.Mutex
	errors                                                     []string
}

func (c *counters) fail(format string, args ...any) {
	c.failed.Add(1)
	c.mu.Lock()
	if len(c.errors) < 20 {
		c.errors = append(c.errors, time.Now().UTC().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
	c.mu.Unlock()
}

func main() {
	addr := flag.String("url", "127.0.0.1:18080", "host:port of the load balancer")
	source := flag.String("source", "127.0.0.2", "local address the connections are bound to")
	keepAlive := flag.Int("keepalive", 6, "clients on keep-alive connections")
	fresh := flag.Int("newconn", 3, "clients opening a new connection per request")
	rate := flag.Int("rate", 1500, "requests per second over all clients, at most (0: no limit)")
	maxTime := flag.Duration("max", 5*time.Minute, "stop after this long even without a signal")
	summary := flag.String("summary", "", "write the summary here as JSON")
	flag.Parse()

	src, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(*source, "0"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: -source:", err)
		os.Exit(2)
	}
	dialer := &net.Dialer{LocalAddr: src, Timeout: 5 * time.Second}
	var c counters
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
		case <-time.After(*maxTime):
		}
		close(stop)
	}()
	clients := *keepAlive + *fresh
	var pause time.Duration
	if *rate > 0 && clients > 0 {
		pause = time.Duration(clients) * time.Second / time.Duration(*rate)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &client{addr: *addr, dialer: dialer, c: &c, keepAlive: i < *keepAlive,
				rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano()))), pause: pause}
			cl.run(stop)
		}()
	}
	wg.Wait()
	s := Summary{Requests: c.requests.Load(), OK: c.ok.Load(), Failed: c.failed.Load(),
		KeepAlive: c.keepAlive.Load(), NewConn: c.newConn.Load(), Pipelined: c.pipelined.Load(),
		Conns: c.conns.Load(), Seconds: time.Since(start).Seconds(), Errors: c.errors}
	fmt.Printf("loadgen: requests=%d ok=%d failed=%d keepalive=%d newconn=%d pipelined=%d conns=%d seconds=%.1f\n",
		s.Requests, s.OK, s.Failed, s.KeepAlive, s.NewConn, s.Pipelined, s.Conns, s.Seconds)
	for _, e := range s.Errors {
		fmt.Fprintln(os.Stderr, "loadgen: failed:", e)
	}
	if *summary != "" {
		b, _ := json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(*summary, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
	}
	if s.Failed > 0 || s.OK == 0 {
		os.Exit(1)
	}
}

// request is one request and what its response must be.
type request struct {
	wire []byte // the request as sent
	want []byte // the whole response body
	path string
}

// fib is /fibonacci's answer, computed as the server does.
var fib = func() []byte {
	a, b := uint32(0), uint32(1)
	for i := 0; i < 1_000_000; i++ {
		a, b = b, a+b
	}
	return []byte("Fibonacci(10^6) = " + strconv.FormatUint(uint64(a), 10) + " (with overflow)\n")
}()

type client struct {
	addr      string
	dialer    *net.Dialer
	c         *counters
	keepAlive bool
	rng       *rand.Rand
	pause     time.Duration

	conn net.Conn
	br   *bufio.Reader
}

// next makes a request: mostly GET /, some POST /echo with a random body,
// a few GET /fibonacci (the one that costs the server CPU).
func (cl *client) next() request {
	closeHdr := ""
	if !cl.keepAlive {
		closeHdr = "Connection: close\r\n"
	}
	switch n := cl.rng.IntN(20); {
	case n == 0:
		return request{path: "/fibonacci", want: fib,
			wire: []byte("GET /fibonacci HTTP/1.1\r\nHost: uringd\r\nUser-Agent: loadgen\r\n" + closeHdr + "\r\n")}
	case n < 6:
		body := make([]byte, 1+cl.rng.IntN(8<<10))
		for i := range body {
			body[i] = byte('a' + cl.rng.IntN(26))
		}
		head := "POST /echo HTTP/1.1\r\nHost: uringd\r\nUser-Agent: loadgen\r\nContent-Type: text/plain\r\n" +
			closeHdr + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		return request{path: "/echo", want: body, wire: append([]byte(head), body...)}
	default:
		return request{path: "/", want: []byte("Hello, World!"),
			wire: []byte("GET / HTTP/1.1\r\nHost: uringd\r\nUser-Agent: loadgen\r\n" + closeHdr + "\r\n")}
	}
}

func (cl *client) run(stop <-chan struct{}) {
	defer cl.hangUp()
	for {
		select {
		case <-stop:
			return
		default:
		}
		batch := 1
		if cl.keepAlive && cl.rng.IntN(4) == 0 {
			batch = 2 + cl.rng.IntN(3) // pipelined
		}
		reqs := make([]request, batch)
		for i := range reqs {
			reqs[i] = cl.next()
		}
		cl.exchange(reqs)
		if cl.pause > 0 {
			time.Sleep(time.Duration(batch) * cl.pause)
		}
	}
}

func (cl *client) hangUp() {
	if cl.conn != nil {
		cl.conn.Close()
		cl.conn, cl.br = nil, nil
	}
}

// exchange sends reqs back to back on one connection and checks each
// response in order.
func (cl *client) exchange(reqs []request) {
	cl.c.requests.Add(int64(len(reqs)))
	reused := cl.conn != nil
	if cl.conn == nil {
		conn, err := cl.dialer.Dial("tcp", cl.addr)
		if err != nil {
			cl.c.failed.Add(int64(len(reqs)) - 1)
			cl.c.fail("dial: %v", err)
			return
		}
		cl.c.conns.Add(1)
		cl.conn, cl.br = conn, bufio.NewReader(conn)
	}
	if reused {
		cl.c.keepAlive.Add(int64(len(reqs)))
	} else {
		cl.c.keepAlive.Add(int64(len(reqs)) - 1)
		cl.c.newConn.Add(1)
	}
	cl.c.pipelined.Add(int64(len(reqs)) - 1)
	cl.conn.SetDeadline(time.Now().Add(20 * time.Second))
	var wire []byte
	for _, r := range reqs {
		wire = append(wire, r.wire...)
	}
	if _, err := cl.conn.Write(wire); err != nil {
		cl.c.failed.Add(int64(len(reqs)) - 1)
		cl.c.fail("write (reused %v): %v", reused, err)
		cl.hangUp()
		return
	}
	for i, r := range reqs {
		closed, err := cl.check(r)
		if err == nil && closed && i < len(reqs)-1 {
			err = fmt.Errorf("connection closed after this response, %d pipelined requests unanswered", len(reqs)-i-1)
			cl.c.ok.Add(1)
			i++
		}
		if err != nil {
			cl.c.failed.Add(int64(len(reqs) - i - 1)) // the ones behind it are lost too
			cl.c.fail("%s (reused %v, %d of %d pipelined): %v", r.path, reused, i+1, len(reqs), err)
			cl.hangUp()
			return
		}
		cl.c.ok.Add(1)
		if closed {
			// The balancer may end a keep-alive connection after a
			// response (not a failure: the response came whole); the
			// next request redials.
			cl.hangUp()
		}
	}
	if !cl.keepAlive {
		cl.hangUp()
	}
}

// check reads r's response; closed: the server said it closes the
// connection after it.
func (cl *client) check(r request) (closed bool, err error) {
	resp, err := http.ReadResponse(cl.br, nil)
	if err != nil {
		return false, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, fmt.Errorf("body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d: %.200q", resp.StatusCode, body)
	}
	if !bytes.Equal(body, r.want) {
		return false, fmt.Errorf("body %d bytes, want %d: %.80q", len(body), len(r.want), body)
	}
	return resp.Close, nil
}

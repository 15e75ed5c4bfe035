// Command iouringgo is an HTTP/1.1 server on github.com/iceber/iouring-go's
// high-level API, written the way that API is meant to be used: a goroutine
// per connection that submits one request at a time (accept, recv, send) with
// its own result channel and blocks on it. The library allocates a request
// object, a done channel, a sync.Once and a map entry per operation, and its
// completion goroutine wakes the submitter through the channel: this peer
// exists to show what that model costs next to uringd's per-core loop.
//
// Framing is the shared minimal HTTP/1.1 loop (bench/internal/minihttp), so
// pipelined requests and Content-Length bodies are handled as in the gnet peer.
// Worker count is GOMAXPROCS (set by the harness); there is one ring.
package main

import (
	"flag"
	"log"
	"net"
	"syscall"

	"github.com/iceber/iouring-go"
	"github.com/uringd/uringd/bench/internal/minihttp"
)

// readSize is the smallest free space offered to one recv.
const readSize = 4096

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()

	iour, err := iouring.New(4096)
	if err != nil {
		log.Fatalf("iouring.New: %v (is io_uring enabled? sysctl kernel.io_uring_disabled)", err)
	}
	lfd, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	ch := make(chan iouring.Result, 1)
	for {
		if _, err := iour.SubmitRequest(iouring.Accept4(lfd, syscall.SOCK_CLOEXEC), ch); err != nil {
			log.Fatalf("submit accept: %v", err)
		}
		res := <-ch
		fd, err := res.ReturnFd()
		if err != nil {
			log.Printf("accept: %v", err) // e.g. EMFILE: keep serving the others
			continue
		}
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		go serve(iour, fd)
	}
}

// serve runs one connection: recv, frame every complete request, send all the
// answers, repeat; a partial request stays in the buffer for the next recv.
func serve(iour *iouring.IOURing, fd int) {
	defer syscall.Close(fd)
	ch := make(chan iouring.Result, 1)
	in := make([]byte, 0, readSize)
	var out []byte
	for {
		if cap(in)-len(in) < readSize {
			in = append(in[:cap(in)], make([]byte, cap(in))...)[:len(in)]
		}
		n, err := do(iour, iouring.Recv(fd, in[len(in):cap(in)], 0), ch)
		if err != nil || n == 0 {
			return
		}
		in = in[:len(in)+n]
		out = out[:0]
		used, closing := 0, false
		for !closing {
			var req minihttp.Request
			k, err := minihttp.Next(in[used:], &req)
			if err != nil {
				out = minihttp.AppendResponse(out, req.Status, "iouring-go", true, nil)
				closing = true
				break
			}
			if k == 0 {
				// Grow once to the whole request (a large upload), not by doubling.
				if need := minihttp.Need(in[used:]); need > cap(in)-used {
					in = append(make([]byte, 0, used+need), in...)
				}
				break
			}
			out = minihttp.AppendRoute(out, &req, "iouring-go")
			used += k
			closing = req.Close
		}
		if len(out) > 0 && !sendAll(iour, fd, out, ch) {
			return
		}
		if closing {
			return
		}
		// Buffers keep their capacity for the connection's life (bounded by
		// minihttp.MaxBody), as the gnet and fasthttp peers do.
		in = in[:copy(in, in[used:])]
	}
}

// sendAll sends b completely; a short send is resubmitted for the rest.
func sendAll(iour *iouring.IOURing, fd int, b []byte, ch chan iouring.Result) bool {
	for len(b) > 0 {
		n, err := do(iour, iouring.Send(fd, b, syscall.MSG_NOSIGNAL), ch)
		if err != nil || n == 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// do submits one operation and waits for its result on ch: the library's
// channel-per-request model.
func do(iour *iouring.IOURing, req iouring.PrepRequest, ch chan iouring.Result) (int, error) {
	if _, err := iour.SubmitRequest(req, ch); err != nil {
		return 0, err
	}
	// Recv and Send have no result resolver in the library, so ReturnInt has
	// nothing to return: read the raw CQE result instead.
	res, err := (<-ch).(iouring.Request).GetRes()
	if err != nil {
		return 0, err
	}
	if res < 0 {
		return 0, syscall.Errno(-res)
	}
	return res, nil
}

func listen(addr string) (int, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return -1, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	sa := &syscall.SockaddrInet4{Port: ta.Port}
	if ip := ta.IP.To4(); ip != nil {
		copy(sa.Addr[:], ip)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return -1, err
	}
	return fd, syscall.Listen(fd, 4096)
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -engine auto where io_uring is refused (a seccomp filter, as in a default
// Docker container): the netpoll fallback serves, and a SIGTERM stops it
// cleanly, exit 0. It used to log `level=ERROR msg="server stopped"
// err="uring: io_uring_setup: operation not permitted"` and exit 1, which
// systemd and container runtimes read as a crash.
func TestAutoUnderSeccompSIGTERMExitsZero(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the seccomp filter uses the x86-64 syscall number")
	}
	s := startServer(t, true, "-engine", "auto", "-addr", "127.0.0.1:0", "-workers", "1")
	resp, err := http.Get("http://" + s.addr + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "Hello, World!", string(body))
	s.signal(t, syscall.SIGTERM)
	code := s.wait(t)
	log := s.log.String()
	assert.Equal(t, 0, code, log)
	assert.Contains(t, log, "engine=netpoll")
	assert.Contains(t, log, `msg=bye`)
	assert.NotContains(t, log, "level=ERROR", log)
}

// A second SIGINT/SIGTERM during the grace period stops uringd at once,
// saying so, instead of waiting out the grace for an in-flight request. The
// requests here are /echo's whose bodies are still arriving (timeouts
// raised so that only the signals can end them); the grace is a minute.
// The first signal's grace holds (a request finished after it is answered
// whole); the second ends the other one.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	for _, engine := range []string{"io_uring", "netpoll"} {
		t.Run(engine, func(t *testing.T) {
			s := startServer(t, false, "-engine", engine, "-addr", "127.0.0.1:0", "-workers", "1",
				"-grace", "1m", "-body-timeout", "1m", "-request-read-timeout", "1m", "-min-body-rate-grace", "1m")
			var conns [2]net.Conn
			for i := range conns {
				c, err := net.Dial("tcp", s.addr)
				require.NoError(t, err)
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				// The interim answer says the server has the request.
				fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
				br := bufio.NewReader(c)
				line, err := br.ReadString('\n')
				require.NoError(t, err)
				require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
				line, err = br.ReadString('\n')
				require.NoError(t, err)
				require.Equal(t, "\r\n", line)
				require.Zero(t, br.Buffered())
				_, err = c.Write([]byte("hello"))
				require.NoError(t, err)
				conns[i] = c
			}

			s.signal(t, syscall.SIGTERM)
			s.waitLog(t, `msg="shutting down"`)
			_, err := conns[0].Write([]byte("world"))
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "helloworld", string(body), "the grace lets an in-flight request finish")
			select {
			case <-s.exited:
				t.Fatalf("uringd exited during the grace with a request in flight:\n%s", s.log.String())
			default:
			}

			s.signal(t, syscall.SIGINT)
			code := s.wait(t) // well before the minute of grace
			log := s.log.String()
			assert.Equal(t, 1, code, log)
			assert.Contains(t, log, `msg="second signal: stopping now"`)
			assert.Contains(t, log, "signal=interrupt")
		})
	}
}

package uringd_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uringd/uringd"
)

func TestHead(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + helloReq)
		resp, body := c.response("HEAD")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, int64(13), resp.ContentLength)
		require.Empty(t, body)
		_, body = c.response("GET") // the HEAD response had no body bytes
		require.Equal(t, "Hello, World!", body)
	})
}

func TestHTTP10(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		t.Run("without_keep-alive", func(t *testing.T) {
			c := dial(t, s)
			c.send("GET / HTTP/1.0\r\n\r\n")
			resp, body := c.response("GET")
			require.Equal(t, "Hello, World!", body)
			require.True(t, resp.Close)
			c.expectClosed()
		})
		t.Run("with_keep-alive", func(t *testing.T) {
			c := dial(t, s)
			for i := 0; i < 3; i++ {
				c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
				resp, body := c.response("GET")
				require.Equal(t, "Hello, World!", body)
				require.Equal(t, "keep-alive", resp.Header.Get("Connection"))
			}
		})
	})
}

func TestExpectContinue(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		c := dial(t, startServer(t, cfg))
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		line, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
		line, err = c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "\r\n", line)
		c.send("hello")
		resp, body := c.response("POST")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "hello", body)
		// And with net/http's client, which waits for the 100.
		cl := newClient(t, 1)
		req, _ := http.NewRequest("POST", baseURL(startServer(t, cfg))+"/echo", strings.NewReader("world"))
		req.Header.Set("Expect", "100-continue")
		r2, err := cl.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(r2.Body)
		r2.Body.Close()
		require.Equal(t, "world", string(b))
	})
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		c := newClient(t, 1)
		code, body, h := get(t, c, baseURL(s)+"/nope")
		assert.Equal(t, 404, code)
		assert.Equal(t, "404 page not found\n", body)
		assert.NotEmpty(t, h.Get("Date"))

		resp, err := c.Post(baseURL(s)+"/", "text/plain", strings.NewReader("x"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 405, resp.StatusCode)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))

		code, body, _ = get(t, c, baseURL(s)+"/files/a/b.txt") // subtree route
		assert.Equal(t, 200, code)
		assert.Equal(t, "file:/files/a/b.txt", body)
		req, _ := http.NewRequest("DELETE", baseURL(s)+"/files/exact", nil)
		resp, err = c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 405, resp.StatusCode)
		// Every pattern that matches the path counts, as in ServeMux: "PUT
		// /files/exact" and the "GET /files/" subtree (which serves a GET).
		assert.Equal(t, "GET, HEAD, PUT", resp.Header.Get("Allow"))
	})
}

func TestMalformedRequestGets400AndClose(t *testing.T) {
	bad := map[string]string{
		"garbage":            "HELLO\r\n\r\n",
		"bare_LF":            "GET / HTTP/1.1\nHost: x\n\n",
		"CL_and_TE":          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"bad_chunk_size":     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"space_before_colon": "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
		"no_host":            "GET / HTTP/1.1\r\n\r\n",
	}
	forEachMode(t, func(t *testing.T, cfg uringd.Config) {
		s := startServer(t, cfg)
		for name, req := range bad {
			t.Run(name, func(t *testing.T) {
				c := dial(t, s)
				c.send(helloReq + req + helloReq) // good, bad, never read
				_, body := c.response("GET")
				require.Equal(t, "Hello, World!", body)
				resp, _ := c.response("GET")
				require.Equal(t, 400, resp.StatusCode)
				require.True(t, resp.Close, "Connection: close")
				c.expectClosed()
			})
		}
	})
}

package uringd

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRouterExactPrefixMethods(t *testing.T) {
	var rt router
	h := func(name string) Handler {
		return HandlerFunc(func(w *Response, r *Request) { w.WriteString(name) })
	}
	rt.add("GET", "/", false, h("root"))
	rt.add("POST", "/echo", false, h("echo"))
	rt.add("", "/any", false, h("any"))
	rt.add("GET", "/static/", true, h("static"))
	rt.add("GET", "/static/img/", true, h("img"))
	rt.add("DELETE", "/static/img/", true, h("del"))

	cases := []struct {
		method, path string
		want         Handler
		allow        string
	}{
		{"GET", "/", rt.exact["/"].methods[0].h, ""},
		{"HEAD", "/", rt.exact["/"].methods[0].h, ""},
		{"POST", "/", nil, "GET, HEAD"},
		{"GET", "/echo", nil, "POST"},
		{"PATCH", "/any", rt.exact["/any"].methods[0].h, ""},
		{"GET", "/static/a.css", rt.prefix[1].methods[0].h, ""},
		{"GET", "/static/img/a.png", rt.prefix[0].methods[0].h, ""},
		{"DELETE", "/static/img/a.png", rt.prefix[0].methods[1].h, ""},
		{"PUT", "/static/img/a.png", nil, "DELETE, GET, HEAD"},
		{"GET", "/nope", nil, ""},
		{"GET", "/stati", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			h, allow := rt.handler([]byte(c.method), []byte(c.path))
			assert.Equal(t, c.allow, allow)
			if c.want == nil {
				assert.Nil(t, h)
			} else {
				require.NotNil(t, h)
			}
		})
	}
	assert.Equal(t, "/static/img/", rt.prefix[0].pattern, "longest prefix first")
}

func TestRouterRejectsBadRegistrations(t *testing.T) {
	var rt router
	ok := HandlerFunc(func(w *Response, r *Request) {})
	rt.add("GET", "/a", false, ok)
	assert.Panics(t, func() { rt.add("GET", "/a", false, ok) }, "duplicate")
	assert.Panics(t, func() { rt.add("GET", "a", false, ok) }, "no leading slash")
	assert.Panics(t, func() { rt.add("GE T", "/b", false, ok) }, "bad method")
	assert.Panics(t, func() { rt.add("GET", "/c", false, nil) }, "nil handler")
}

func TestRouterLookupDoesNotAllocate(t *testing.T) {
	var rt router
	ok := HandlerFunc(func(w *Response, r *Request) {})
	rt.add("GET", "/hello", false, ok)
	rt.add("GET", "/files/", true, ok)
	m, p1, p2, p3 := []byte("GET"), []byte("/hello"), []byte("/files/x"), []byte("/none")
	allocs := testing.AllocsPerRun(1000, func() {
		rt.handler(m, p1)
		rt.handler(m, p2)
		rt.handler(m, p3)
	})
	assert.Zero(t, allocs)
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{}.withDefaults()
	require.NoError(t, c.validate())
	assert.Equal(t, DefaultAddr, c.Addr)
	assert.Equal(t, DefaultMaxHeaderBytes, c.MaxHeaderBytes)
	assert.Equal(t, int64(DefaultMaxStreamBody), c.MaxStreamBody)
	assert.Equal(t, int64(DefaultMinBodyRate), c.MinBodyRate)
	assert.Equal(t, DefaultRequestReadTimeout, c.RequestReadTimeout)
	assert.NotNil(t, c.Logger)

	bad := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxHeaders = -1 }, "Config.MaxHeaders = -1 is out of range"},
		{func(c *Config) { c.RingEntries = 100 }, "Config.RingEntries = 100 must be a power of two"},
		{func(c *Config) { c.RecvBuffers = 3 }, "Config.RecvBuffers = 3 must be a power of two"},
		{func(c *Config) { c.MaxURI = 1 << 20 }, "Config.MaxURI (1048576) must not exceed Config.MaxHeaderBytes"},
		{func(c *Config) { c.IdleTimeout = -1 }, "Config.IdleTimeout = -1 is out of range"},
		{func(c *Config) { c.MinBodyRate = -1 }, "Config.MinBodyRate = -1 is out of range"},
		{func(c *Config) { c.MinBodyRateGrace = -1 }, "Config.MinBodyRateGrace = -1 is out of range"},
		{func(c *Config) { c.RequestReadTimeout = -1 }, "Config.RequestReadTimeout = -1 is out of range"},
		{func(c *Config) { c.MaxStreamBody = -1 }, "Config.MaxStreamBody = -1 is out of range"},
	}
	for _, b := range bad {
		c := Config{}.withDefaults()
		b.mut(&c)
		err := c.validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), b.want)
	}
	_, err := New(Config{MaxPendingOutput: 10})
	assert.ErrorContains(t, err, "Config.MaxPendingOutput = 10 is out of range [4096,")
}

// Exact routes are compared in turn while there are few and hashed beyond;
// both sides of the threshold find every route and nothing else.
func TestRouterManyExactRoutes(t *testing.T) {
	for _, n := range []int{1, fewRoutes, fewRoutes + 1, 40} {
		var rt router
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("/r%d", i)
			rt.add("GET", name, false, HandlerFunc(func(w *Response, r *Request) { w.WriteString(name) }))
		}
		for i := 0; i < n; i++ {
			h, allow := rt.handler([]byte("GET"), []byte(fmt.Sprintf("/r%d", i)))
			require.NotNil(t, h, "n=%d route %d", n, i)
			assert.Empty(t, allow)
			assert.Same(t, rt.exact[fmt.Sprintf("/r%d", i)], rt.exactRoute([]byte(fmt.Sprintf("/r%d", i))))
		}
		h, _ := rt.handler([]byte("GET"), []byte(fmt.Sprintf("/r%d", n)))
		assert.Nil(t, h, "n=%d: an unregistered path", n)
		h, allow := rt.handler([]byte("POST"), []byte("/r0"))
		assert.Nil(t, h)
		assert.Equal(t, "GET, HEAD", allow)
	}
}

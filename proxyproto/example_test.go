package proxyproto_test

import (
	"fmt"
	"net/netip"

	"github.com/uringd/uringd/proxyproto"
)

// The worker's side: bytes arrive in pieces; Parse is called on everything
// received so far until it decides, then the HTTP parser starts at buf[n].
func ExampleParse() {
	allow, _ := proxyproto.ParseAllow("10.0.0.0/8")
	peer := netip.MustParseAddrPort("10.1.2.3:51000") // the load balancer
	local := netip.MustParseAddrPort("10.0.0.1:8080")
	if !allow.Contains(peer.Addr()) {
		return // the worker would refuse a connection that starts with a header
	}
	var buf []byte
	for _, piece := range []string{"PROXY TCP4 203.0.", "113.7 198.51.100.1 40000 443\r\nGET / HTTP/1.1\r\n"} {
		buf = append(buf, piece...)
		h, n, err := proxyproto.Parse(buf)
		if err == proxyproto.ErrIncomplete {
			fmt.Println("need more bytes")
			continue
		}
		if err != nil {
			fmt.Println("refuse and close:", err)
			return
		}
		remote, _ := h.Addrs(peer, local)
		fmt.Printf("client %v, request starts with %q\n", remote, buf[n:n+5])
	}
	_, _, err := proxyproto.Parse([]byte("GET / HTTP/1.1\r\n"))
	fmt.Println(err)
	// Output:
	// need more bytes
	// client 203.0.113.7:40000, request starts with "GET /"
	// proxyproto: not a PROXY protocol header
}

package proxyproto

import (
	"flag"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllow(t *testing.T) {
	a, err := ParseAllow("10.0.0.0/8, 192.168.1.7/24,fd00::/8,::1,127.0.0.1,::ffff:172.16.0.0/108")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.0/8,192.168.1.0/24,fd00::/8,::1/128,127.0.0.1/32,172.16.0.0/12", a.String(),
		"host bits cleared, bare addresses are single hosts, mapped prefixes stored as IPv4")
	for addr, want := range map[string]bool{
		"10.0.0.1":            true,
		"10.255.255.255":      true,
		"11.0.0.0":            false,
		"192.168.1.200":       true,
		"192.168.2.1":         false,
		"::ffff:10.1.2.3":     true, // an IPv4 peer seen on a dual-stack socket
		"::ffff:11.1.2.3":     false,
		"fd12:3456::1":        true,
		"fe80::1%eth0":        false,
		"::1":                 true,
		"::2":                 false,
		"127.0.0.1":           true,
		"127.0.0.2":           false,
		"172.31.255.255":      true,
		"::ffff:172.16.0.1":   true,
		"fd00::1%eth0":        true, // the zone is ignored
		"2001:db8::10.0.0.1":  false,
		"::ffff:192.168.1.10": true,
	} {
		require.Equal(t, want, a.Contains(netip.MustParseAddr(addr)), addr)
	}
	var zero Allow
	require.False(t, zero.Contains(netip.MustParseAddr("127.0.0.1")), "the zero Allow trusts nobody")
	require.Zero(t, zero.Len())
	require.Equal(t, 6, a.Len())
}

// TestAllowErrorsNameTheBadCIDR: the operator sees which item of the flag
// is wrong, and a failed Set leaves the list as it was.
func TestAllowErrorsNameTheBadCIDR(t *testing.T) {
	for _, tc := range []struct{ list, bad string }{
		{"10.0.0.0/33", `"10.0.0.0/33"`},
		{"10.0.0.0/8,banana", `"banana"`},
		{"10.0.0.0/8,,1.2.3.4", `""`},
		{"10.0.0.0/8,", `""`},
		{"fe80::1%eth0", `"fe80::1%eth0"`},
		{"fe80::/10%eth0", `"fe80::/10%eth0"`},
		{"1.2.3.4/-1", `"1.2.3.4/-1"`},
		{"::ffff:10.0.0.0/64", `"::ffff:10.0.0.0/64"`},
		{"010.0.0.0/8", `"010.0.0.0/8"`},
	} {
		a, err := ParseAllow("127.0.0.1")
		require.NoError(t, err)
		err = a.Set(tc.list)
		require.Error(t, err, tc.list)
		require.Contains(t, err.Error(), "-proxy-from: "+tc.bad, tc.list)
		require.Equal(t, "127.0.0.1/32", a.String(), "unchanged after a failed Set")
	}
}

// TestAllowIsAFlag: -proxy-from may be given once with a list or repeated.
func TestAllowIsAFlag(t *testing.T) {
	var a Allow
	fs := flag.NewFlagSet("uringd", flag.ContinueOnError)
	fs.Var(&a, "proxy-from", "trusted proxies")
	require.NoError(t, fs.Parse([]string{"-proxy-from", "10.0.0.0/8,10.1.0.0/16", "-proxy-from", "::1"}))
	require.Equal(t, "10.0.0.0/8,10.1.0.0/16,::1/128", a.String())
	require.True(t, a.Contains(netip.MustParseAddr("::1")))
	fs = flag.NewFlagSet("uringd", flag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Var(&Allow{}, "proxy-from", "")
	err := fs.Parse([]string{"-proxy-from", "10.0.0.0/8,300.0.0.0/8"})
	require.ErrorContains(t, err, `"300.0.0.0/8"`)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

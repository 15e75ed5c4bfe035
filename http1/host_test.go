package http1

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostOracle is RFC 3986's grammar for uri-host [ ":" port ] written as a
// regular expression, straight from the ABNF (§3.2.2), to check validHost
// against an implementation that shares nothing with it.
var hostOracle = func() *regexp.Regexp {
	const (
		h16  = `[0-9A-Fa-f]{1,4}`
		dec  = `(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])`
		ipv4 = dec + `\.` + dec + `\.` + dec + `\.` + dec
		ls32 = `(?:` + h16 + `:` + h16 + `|` + ipv4 + `)`
	)
	ipv6 := strings.Join([]string{
		`(?:` + h16 + `:){6}` + ls32,
		`::(?:` + h16 + `:){5}` + ls32,
		`(?:` + h16 + `)?::(?:` + h16 + `:){4}` + ls32,
		`(?:(?:` + h16 + `:){0,1}` + h16 + `)?::(?:` + h16 + `:){3}` + ls32,
		`(?:(?:` + h16 + `:){0,2}` + h16 + `)?::(?:` + h16 + `:){2}` + ls32,
		`(?:(?:` + h16 + `:){0,3}` + h16 + `)?::` + h16 + `:` + ls32,
		`(?:(?:` + h16 + `:){0,4}` + h16 + `)?::` + ls32,
		`(?:(?:` + h16 + `:){0,5}` + h16 + `)?::` + h16,
		`(?:(?:` + h16 + `:){0,6}` + h16 + `)?::`,
	}, "|")
	future := `[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+`
	regName := `(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*`
	return regexp.MustCompile(`^(?:\[(?:` + ipv6 + `|` + future + `)\]|` + regName + `)(?::[0-9]*)?$`)
}()

var hostCases = []struct {
	v  string
	ok bool
}{
	{"", true},
	{"example.com", true},
	{"example.com:8080", true},
	{"EXAMPLE.com:80", true},
	{"example.com:", true}, // port = *DIGIT
	{":80", true},          // an empty reg-name is a reg-name
	{"127.0.0.1", true},
	{"127.0.0.1:8080", true},
	{"999.1.1.1", true}, // not an IPv4address, but a reg-name
	{"a-b_c~d.e", true},
	{"sub!$&'()*+,;=delims", true},
	{"ex%41mple", true},
	{"[::1]", true},
	{"[::1]:8080", true},
	{"[::]", true},
	{"[2001:db8::8:800:200c:417a]", true},
	{"[2001:DB8:0:0:8:800:200C:417A]:443", true},
	{"[1:2:3:4:5:6:7::]", true},
	{"[1::2:3:4:5:6:7]", true},
	{"[::ffff:192.0.2.1]", true},
	{"[1:2:3:4:5:6:1.2.3.4]", true},
	{"[v1.fe80::a+en1]", true},
	{"[V7.x:y]", true},

	// Accepted before: every byte was in net/http's set, the value was not
	// uri-host [":" port].
	{"a:b", false},
	{"a:80:90", false},
	{"a:80x", false},
	{"example.com:-1", false},
	{"[::1", false},
	{"::1", false},
	{"a]", false},
	{"a[b]", false},
	{"[]", false},
	{"[zz]", false},
	{"[::1]x", false},
	{"[::1]:a", false},
	{"[::1]]", false},
	{"[[::1]]", false},
	{"[1:2:3:4:5:6:7:8:9]", false},
	{"[1:2:3:4:5:6:7]", false},
	{"[1::2::3]", false},
	{"[12345::]", false},
	{"[1:2:3:4:5:6:7:1.2.3.4]", false},
	{"[::1.2.3]", false},
	{"[::1.2.3.256]", false},
	{"[::01.2.3.4]", false},
	{"[::1.2.3.4:5]", false},
	{"[1:]", false},
	{"[:1]", false},
	{"[::1%25eth0]", false}, // a zone (RFC 6874) is not part of RFC 9112's Host
	{"[v.x]", false},
	{"[v1.]", false},
	{"[v1x]", false},
	{"ex%4", false},
	{"ex%", false},
	{"ex%zz", false},
	{"%", false},
	// Refused before too.
	{"a b", false},
	{"a/b", false},
	{"a@b", false},
	{"a?b", false},
	{"a#b", false},
	{"a\"b", false},
	{"é.example", false},
}

func TestValidHost(t *testing.T) {
	for _, c := range hostCases {
		assert.Equal(t, c.ok, validHost([]byte(c.v)), "validHost(%q)", c.v)
		assert.Equal(t, c.ok, hostOracle.MatchString(c.v), "oracle(%q)", c.v)
	}
}

// The parser answers an invalid Host with 400 (errBadHost), a valid one
// with the request.
func TestParseHost(t *testing.T) {
	for _, c := range hostCases {
		var p Parser
		p.Init(nil, make([]Header, 0, 8))
		var req Request
		_, err := p.Next([]byte("GET / HTTP/1.1\r\nHost: "+c.v+"\r\n\r\n"), &req)
		if c.ok {
			require.NoError(t, err, "%q", c.v)
			assert.Equal(t, c.v, string(req.Host))
		} else {
			assert.Equal(t, errBadHost, err, "%q", c.v)
		}
	}
}

func TestValidHostAllocs(t *testing.T) {
	vals := make([][]byte, len(hostCases))
	for i, c := range hostCases {
		vals[i] = []byte(c.v)
	}
	n := testing.AllocsPerRun(100, func() {
		for _, v := range vals {
			validHost(v)
		}
	})
	assert.Zero(t, n)
}

// FuzzHost checks validHost against the grammar's regular expression.
func FuzzHost(f *testing.F) {
	for _, c := range hostCases {
		f.Add(c.v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := validHost([]byte(v)), hostOracle.MatchString(v); got != want {
			t.Fatalf("validHost(%q) = %v, the grammar says %v", v, got, want)
		}
	})
}

// TestValidHostLong checks validHost against the grammar on random values
// of up to 40 bytes, most of them host-like (letters, digits, '.', '-'
// with a ':' port, a '%' escape or a stray byte), so that the
// eight-bytes-at-a-time paths meet every byte at every offset.
func TestValidHostLong(t *testing.T) {
	const common = "abcXYZ019.-"
	odd := []byte{':', '%', '_', '~', '[', ']', ' ', '/', '@', 0x00, 0x7f, 0x80, 0xff, 'G', 'f'}
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := 0; iter < 200000; iter++ {
		n := rng.IntN(41)
		v := make([]byte, n)
		for k := range v {
			if rng.IntN(10) == 0 {
				v[k] = odd[rng.IntN(len(odd))]
			} else {
				v[k] = common[rng.IntN(len(common))]
			}
		}
		if n > 1 && rng.IntN(2) == 0 { // a port of 0 to 9 digits
			p := n - rng.IntN(min(n, 10))
			v[p-1] = ':'
			for k := p; k < n; k++ {
				v[k] = '0' + byte(rng.IntN(10))
			}
			if rng.IntN(8) == 0 {
				v[p+rng.IntN(n-p+1)-1] = odd[rng.IntN(len(odd))]
			}
		}
		require.Equal(t, hostOracle.Match(v), validHost(v), "%q", v)
	}
}

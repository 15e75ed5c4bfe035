package http1

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// parsed is a comparable copy of a Request, so results from different ways
// of feeding the same bytes can be compared after their buffers are gone.
type parsed struct {
	Method, Target, Path, Query string
	HasQuery                    bool
	ProtoMinor                  int
	Headers                     []string // "Name: value"
	Host                        string
	ContentLength               int64
	Chunked, Close, KeepAlive10 bool
	ExpectContinue              bool
	Body                        string
	N                           int
}

func snapshot(r *Request, n int) parsed {
	p := parsed{
		Method: string(r.Method), Target: string(r.Target), Path: string(r.Path),
		Query: string(r.Query), HasQuery: r.Query != nil, ProtoMinor: r.ProtoMinor,
		Host: string(r.Host), ContentLength: r.ContentLength, Chunked: r.Chunked,
		Close: r.Close, KeepAlive10: r.KeepAlive10, ExpectContinue: r.ExpectContinue,
		Body: string(r.Body), N: n,
	}
	for _, h := range r.Headers {
		p.Headers = append(p.Headers, string(h.Name)+": "+string(h.Value))
	}
	return p
}

// outcome is the result of feeding one input: a request or an error.
type outcome struct {
	req parsed
	err error
}

func (o outcome) String() string {
	if o.err != nil {
		return "error " + o.err.Error()
	}
	return fmt.Sprintf("%+v", o.req)
}

var testLimits = Limits{MaxURI: 256, MaxHeaderBytes: 1024, MaxHeaders: 16, MaxBody: 1024}

func newParser(lim *Limits) *Parser {
	p := new(Parser)
	p.Init(lim, make([]Header, lim.MaxHeaders))
	return p
}

// feedWhole parses in one call.
func feedWhole(in []byte, lim *Limits) outcome {
	p := newParser(lim)
	var req Request
	buf := append([]byte(nil), in...)
	n, err := p.Next(buf, &req)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{req: snapshot(&req, n)}
}

// feedChunks parses the input delivered in pieces ending at the given
// offsets. Before every call the bytes so far are moved to a fresh buffer,
// as a server does when a request spans receive buffers: the parser must
// keep nothing but offsets.
func feedChunks(in []byte, lim *Limits, cuts []int) outcome {
	p := newParser(lim)
	var req Request
	var buf []byte
	prev := 0
	for _, cut := range append(cuts, len(in)) {
		nb := make([]byte, 0, cut)
		nb = append(nb, buf...) // the parser may have rewritten these in place
		nb = append(nb, in[prev:cut]...)
		buf, prev = nb, cut
		n, err := p.Next(buf, &req)
		if err == ErrIncomplete {
			continue
		}
		if err != nil {
			return outcome{err: err}
		}
		return outcome{req: snapshot(&req, n)}
	}
	return outcome{err: ErrIncomplete}
}

// feedEveryWay checks that every split of in, and one byte at a time,
// gives the same outcome as a single call, and returns that outcome.
func feedEveryWay(t *testing.T, in []byte, lim *Limits) outcome {
	t.Helper()
	whole := feedWhole(in, lim)
	for k := 1; k < len(in); k++ {
		got := feedChunks(in, lim, []int{k})
		require.Equal(t, whole.String(), got.String(), "split at %d", k)
	}
	var cuts []int
	for k := 1; k < len(in); k++ {
		cuts = append(cuts, k)
	}
	got := feedChunks(in, lim, cuts)
	require.Equal(t, whole.String(), got.String(), "one byte at a time")
	return whole
}

// crlf turns the readable "\n" line ends of test inputs into CRLF, and
// "<LF>" into a bare LF.
func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	return []byte(strings.ReplaceAll(s, "<LF>", "\n"))
}

package uringd

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// randomPattern draws from a small grammar so that patterns collide often:
// methods, literals, {name}, {name...}, trailing slashes and {$}.
func randomPattern(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString([]string{"", "", "GET ", "HEAD ", "POST "}[rng.IntN(5)])
	n := rng.IntN(4)
	for i := 0; i < n; i++ {
		b.WriteByte('/')
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "{w%d}", i)
		default:
			b.WriteString([]string{"a", "b"}[rng.IntN(2)])
		}
	}
	switch rng.IntN(4) {
	case 0:
		b.WriteString("/")
	case 1:
		fmt.Fprintf(&b, "/{r%d...}", n)
	case 2:
		b.WriteString("/{$}")
	default:
		if n == 0 {
			b.WriteString("/")
		}
	}
	return b.String()
}

func randomTarget(rng *rand.Rand) string {
	var b strings.Builder
	for i, n := 0, rng.IntN(5); i < n; i++ {
		b.WriteByte('/')
		b.WriteString([]string{"a", "b", "c"}[rng.IntN(3)])
	}
	if b.Len() == 0 || rng.IntN(3) == 0 {
		b.WriteByte('/')
	}
	if rng.IntN(4) == 0 {
		b.WriteString("?q=1")
	}
	return b.String()
}

// Random pattern sets and requests, through the router and ServeMux: the
// same registrations are refused (conflicts), and every request gets the
// same answer (pattern, path values, 307 Location, 405 Allow, 404).
func TestRouterMatchesServeMuxRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 22))
	statusCount, conflicts := map[int]int{}, 0
	defer func() { t.Logf("answers by status %v, conflicting registrations %d", statusCount, conflicts) }()
	for set := 0; set < 300; set++ {
		var rt router
		mux := http.NewServeMux()
		var pats []string
		for i := 0; i < 6; i++ {
			p := randomPattern(rng)
			stdPanic := panicMessage(func() { mux.Handle(p, stdPatternHandler(t, p)) }) != "no panic"
			ourPanic := panicMessage(func() { rt.add(p, patternHandler(t, p)) }) != "no panic"
			if !assert.Equal(t, stdPanic, ourPanic, "registering %q after %q: ServeMux panics: %v", p, pats, stdPanic) {
				return
			}
			if stdPanic {
				conflicts++
			}
			if !stdPanic {
				pats = append(pats, p)
			}
		}
		for i := 0; i < 30; i++ {
			method := []string{"GET", "HEAD", "POST", "PUT"}[rng.IntN(4)]
			target := randomTarget(rng)
			want := serveMux(mux, method, target)
			got := serveRouter(t, &rt, method, target)
			statusCount[got.status]++
			if !assert.Equal(t, want.String(), got.String(), "%s %s with %q", method, target, pats) {
				return
			}
		}
	}
}

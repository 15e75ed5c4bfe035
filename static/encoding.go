package static

// coding names a precompressed content coding that Config.Precompressed
// serves from a sibling file. The order is the preference at equal q:
// brotli and zstd beat gzip on size for the same text.
type coding int8

const (
	codingBr coding = iota
	codingZstd
	codingGzip
	numCodings

	identity coding = -1 // the file itself, no content coding
)

// codings are the content-coding names (RFC 9110 §8.4.1, IANA registry) and
// the sibling suffixes nginx's gzip_static and brotli_static use.
var codings = [numCodings]struct{ token, ext string }{
	codingBr:   {"br", ".br"},
	codingZstd: {"zstd", ".zst"},
	codingGzip: {"gzip", ".gz"},
}

// accept is a parsed Accept-Encoding (RFC 9110 §12.5.3): the weight of each
// coding we can serve, of identity and of "*", in thousandths; -1 where the
// coding is not listed.
type accept struct {
	q        [numCodings]int16
	identity int16
	star     int16
}

// chooseCoding picks the representation to send of a file whose available
// siblings are the bits of avail (1<<coding): the coding with the highest
// q, preferring the earlier in codings at equal q, unless the client weighs
// identity higher. It returns identity when Accept-Encoding is absent (as
// nginx does, although §12.5.3 would allow any coding: clients such as curl
// send nothing and expect the file as it is), empty, malformed anywhere
// (one bad field poisons all: the client's wishes are then unknown), or
// when nothing available is acceptable — also when identity is refused
// ("identity;q=0"): §12.5.3 allows sending an unencoded representation
// anyway, and a 406 helps nobody. It does not allocate.
func chooseCoding(r *Request, avail uint8) coding {
	a := accept{q: [numCodings]int16{-1, -1, -1}, identity: -1, star: -1}
	seen := false
	for i := range r.Headers {
		n := r.Headers[i].Name
		if len(n) == 15 && eqFold(n, "accept-encoding") {
			if !a.parse(r.Headers[i].Value) {
				return identity
			}
			seen = true
		}
	}
	if !seen {
		return identity
	}
	return a.choose(avail)
}

func (a *accept) choose(avail uint8) coding {
	best, bq := identity, int16(0) // q=0 is "not acceptable": never chosen
	for c := range numCodings {
		if avail&(1<<c) == 0 {
			continue
		}
		q := a.q[c]
		if q < 0 {
			q = a.star // -1 when "*" is absent too: not acceptable
		}
		if q > bq {
			best, bq = c, q
		}
	}
	if best == identity {
		return identity
	}
	// Identity competes only where the client weighed it, directly or by
	// "*"; unlisted, it is merely "acceptable by default" and loses.
	idq := a.identity
	if idq < 0 {
		idq = a.star
	}
	if idq > bq {
		return identity
	}
	return best
}

// parse adds one Accept-Encoding field value to a, reporting false if it is
// malformed. Grammar (RFC 9110 §12.5.3, §12.4.2, §5.6.1):
//
//	Accept-Encoding = #( codings [ weight ] )
//	codings         = content-coding / "identity" / "*"
//	weight          = OWS ";" OWS "q=" qvalue
//	qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//
// Codings and "q" are case-insensitive; empty list elements are skipped, as
// §5.6.1 asks of recipients. When a coding is listed twice the first wins.
func (a *accept) parse(v []byte) bool {
	i := 0
	for {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
			i++
		}
		if i == len(v) {
			return true
		}
		j := i
		for j < len(v) && isTchar(v[j]) {
			j++
		}
		if j == i {
			return false
		}
		tok := v[i:j]
		i = skipOWS(v, j)
		q := int16(1000)
		if i < len(v) && v[i] == ';' {
			i = skipOWS(v, i+1)
			if i+1 >= len(v) || v[i]|0x20 != 'q' || v[i+1] != '=' {
				return false
			}
			var ok bool
			if q, i, ok = parseQ(v, i+2); !ok {
				return false
			}
			i = skipOWS(v, i)
		}
		if i < len(v) && v[i] != ',' {
			return false
		}
		a.set(tok, q)
	}
}

func (a *accept) set(tok []byte, q int16) {
	var p *int16
	switch len(tok) { // by length first: one comparison per token
	case 1:
		if tok[0] == '*' {
			p = &a.star
		}
	case 2:
		if eqFold(tok, "br") {
			p = &a.q[codingBr]
		}
	case 4:
		if eqFold(tok, "gzip") {
			p = &a.q[codingGzip]
		} else if eqFold(tok, "zstd") {
			p = &a.q[codingZstd]
		}
	case 6:
		if eqFold(tok, "x-gzip") { // §8.4.1.3: x-gzip is gzip
			p = &a.q[codingGzip]
		}
	case 8:
		if eqFold(tok, "identity") {
			p = &a.identity
		}
	}
	if p != nil && *p < 0 { // nil: a coding we have no sibling for (deflate, ...)
		*p = q
	}
}

// parseQ reads a qvalue at v[i:] as thousandths and returns the index after
// it. The caller checks what follows ("0.5x" and "0.1234" fail there).
func parseQ(v []byte, i int) (q int16, next int, ok bool) {
	if i >= len(v) || (v[i] != '0' && v[i] != '1') {
		return 0, i, false
	}
	one := v[i] == '1'
	i++
	if i < len(v) && v[i] == '.' {
		i++
		for scale := int16(100); scale > 0 && i < len(v) && '0' <= v[i] && v[i] <= '9'; scale /= 10 {
			if one && v[i] != '0' {
				return 0, i, false // "1.5" is not a qvalue
			}
			q += int16(v[i]-'0') * scale
			i++
		}
	}
	if one {
		q = 1000
	}
	return q, i, true
}

func skipOWS(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool { return tchars[c] }

var tchars = func() (t [256]bool) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = true
		}
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

package http1

import (
	"sync/atomic"
	"time"
)

// imfFixdate is the preferred Date format (RFC 9110 §5.6.7).
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// DateCache holds the Date header line, formatted at most once a second
// instead of once per response. It is owned by one goroutine (a worker) and
// has no locks: the owner calls Update from its loop and hands Bytes to
// Response.Reset.
type DateCache struct {
	sec int64
	n   int
	buf [64]byte // "Date: " + 29 bytes + "\r\n"
}

// Update reformats the line if now is in a different second than the last
// call. It does not allocate.
func (d *DateCache) Update(now time.Time) {
	s := now.Unix()
	if s == d.sec && d.n != 0 {
		return
	}
	b := append(d.buf[:0], "Date: "...)
	b = now.UTC().AppendFormat(b, imfFixdate)
	b = append(b, "\r\n"...)
	d.sec = s
	d.n = len(b)
}

// Bytes returns the whole field line, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
// ready to copy into a response. It is valid until the next Update; if
// Update was never called it formats the current time.
func (d *DateCache) Bytes() []byte {
	if d.n == 0 {
		d.Update(time.Now())
	}
	return d.buf[:d.n]
}

// shared is the Date line of goroutines that have no loop of their own to
// own a DateCache (the pool goroutines answering blocking handlers). Each
// second gets a new immutable DateCache, so readers need no lock and a
// line handed out is never rewritten under them.
var shared atomic.Pointer[DateCache]

// CurrentDate returns the Date field line for now, like DateCache.Bytes,
// from a cache shared by all goroutines: formatted (and allocated) at most
// once a second. The slice is never modified; do not modify it.
func CurrentDate() []byte {
	now := time.Now()
	for {
		d := shared.Load()
		// One second ahead: a goroutine that read the clock later stored it.
		// A clock stepped back further gets its own second.
		if d != nil && (d.sec == now.Unix() || d.sec == now.Unix()+1) {
			return d.Bytes()
		}
		n := new(DateCache)
		n.Update(now)
		if shared.CompareAndSwap(d, n) { // a racing goroutine's newer second wins
			return n.Bytes()
		}
	}
}

package worker

import (
	"net/netip"
	"time"
	"unsafe"

	"github.com/uringd/uringd/accesslog"
	"github.com/uringd/uringd/http1"
	"github.com/uringd/uringd/internal/engine"
	"golang.org/x/sys/unix"
)

// The access log (Config.AccessLog) costs the loop no clock read: like
// nginx, which logs with the time cached per event-loop iteration, a line
// carries the turn's time (Worker.turn), and a request's duration runs from
// the turn its first bytes arrived (conn.reqAt) to the turn it was
// answered; a request read and answered in one turn logs 0.000.

// answered counts and logs the response just finished on c for req (nil:
// refused before its request line was understood), answered on the loop.
func (w *Worker) answered(c *conn, req *http1.Request) {
	d := time.Duration(0)
	if w.reqAt != 0 {
		d = w.turn - w.reqAt
	}
	w.reqAt = 0
	w.stats.countResponse(engine.KindPlain, w.resp.Status(), d)
	sink := w.cfg.AccessLog
	if sink == nil {
		return
	}
	e := &w.entry
	*e = accesslog.Entry{Remote: w.peer(c), Time: w.start.Add(w.turn), Duration: d,
		Status: w.resp.Status(), BodyBytes: w.resp.BodySent()}
	if req != nil && req.Method != nil {
		e.Method, e.Target, e.ProtoMinor = req.Method, req.Target, req.ProtoMinor
		e.Referer, e.UserAgent = req.Header("Referer"), req.Header("User-Agent")
	}
	sink.Log(e)
	*e = accesslog.Entry{} // no views into the receive buffer kept
}

// peer is c's client address, read once per connection (multishot accept
// does not return it) with getpeername into a stack sockaddr: no allocation.
func (w *Worker) peer(c *conn) netip.AddrPort {
	if !c.peerOK {
		c.peer, c.peerOK = getpeername(c.fd), true
	}
	return c.peer
}

func getpeername(fd int32) netip.AddrPort {
	var rsa unix.RawSockaddrAny
	n := uint32(unsafe.Sizeof(rsa))
	_, _, errno := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(fd),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return netip.AddrPort{}
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// Answered reports the detached response's status and body length
// (engine.Stream), called by its producer on a pool goroutine before
// Finish: the access log line is written here (the sink takes concurrent
// lines; the time is read now, off the loop), and the status is counted by
// the worker when Finish's post arrives (endStream).
func (s *Stream) Answered(status int, bodyBytes int64) {
	s.status = status
	sink := s.w.cfg.AccessLog
	if sink == nil {
		return
	}
	now := time.Now()
	e := accesslog.Entry{Remote: s.peer, Time: now, Duration: now.Sub(s.w.start.Add(s.begun)), Status: status,
		BodyBytes: bodyBytes, Method: s.req.Method, Target: s.req.Target, ProtoMinor: s.req.ProtoMinor,
		Referer: s.req.Header("Referer"), UserAgent: s.req.Header("User-Agent")}
	sink.Log(&e)
}

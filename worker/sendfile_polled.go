package worker

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sendfilePolled is sendfile that never leaves a thread blocked in the
// kernel: each call asks for no more than the room left in the socket's
// send buffer, and between calls the goroutine waits for EPOLLOUT through
// Go's poller, on an epoll instance of its own that watches the (blocking)
// socket. A blocked sendfile costs the runtime a P handed off and sysmon
// back at 20 µs polling each time (kernel-notes.md "Large files"). The
// socket itself stays blocking: O_NONBLOCK belongs to the open file
// description, which the ring shares. t bounds each wait (0: none). ok is
// false when the epoll instance could not be set up (nothing was sent).
func sendfilePolled(out, in int, off, n int64, t time.Duration) (sent int64, err error, ok bool) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 0, nil, false
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, out, &ev); err != nil {
		unix.Close(ep)
		return 0, nil, false
	}
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return 0, nil, false
	}
	epf := os.NewFile(uintptr(ep), "sendfile-epoll") // closes ep
	defer epf.Close()
	rc, err := epf.SyscallConn()
	if err != nil {
		return 0, nil, false
	}
	var evs [1]unix.EpollEvent
	woke := false
	for sent < n {
		// Read each time: TCP grows the buffer as the transfer goes on.
		sndbuf, err := unix.GetsockoptInt(out, unix.SOL_SOCKET, unix.SO_SNDBUF)
		if err != nil {
			return sent, err, true
		}
		queued, err := unix.IoctlGetInt(out, unix.SIOCOUTQ)
		if err != nil {
			return sent, err, true
		}
		// Pages spliced from the page cache cost the buffer about their
		// size, so asking for what is left rarely waits for room.
		room := int64(sndbuf-queued) * 3 / 4
		if woke {
			// The socket said it has room (a third of the buffer free by
			// TCP's measure): send at least a chunk, or this would spin.
			room, woke = max(room, 64<<10), false
		}
		if room < 64<<10 {
			if t > 0 {
				epf.SetReadDeadline(time.Now().Add(t))
			}
			// EPOLL_CTL_MOD polls the socket again: it reports it ready
			// now, or marks it so that the next freed room wakes us.
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, out, &ev); err != nil {
				return sent, err, true
			}
			var werr error
			rerr := rc.Read(func(uintptr) bool {
				m, e := unix.EpollWait(ep, evs[:], 0)
				if e == unix.EINTR || (e == nil && m == 0) {
					return false
				}
				werr = e
				return true
			})
			if rerr != nil {
				return sent, rerr, true
			}
			if werr != nil {
				return sent, werr, true
			}
			woke = true // on EPOLLHUP or EPOLLERR too: sendfile says why
			continue
		}
		m, err := sendfile(out, in, off, min(n-sent, room))
		sent += m
		off += m
		if err != nil {
			return sent, err, true
		}
	}
	return sent, nil, true
}

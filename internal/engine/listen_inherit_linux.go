package engine

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Listeners returns one listening socket per worker: Listen(addr, n,
// backlog) when nothing is inherited, else Inherit(inherited, n, backlog).
// Both engines take their listeners from here.
func Listeners(addr string, inherited []*os.File, n, backlog int) ([]int, *net.TCPAddr, error) {
	if len(inherited) == 0 {
		return Listen(addr, n, backlog)
	}
	return Inherit(inherited, n, backlog)
}

// Inherit builds n listeners from already-open listening sockets (systemd
// socket activation, or the previous process of a binary upgrade): first a
// close-on-exec dup of each inherited file, in order (the caller keeps and
// closes its own), then, when fewer than n were inherited, new SO_REUSEPORT
// siblings bound to the same address (which needs SO_REUSEPORT on the
// inherited socket, and the same user as the one that created it: the
// kernel's rule for joining a reuseport group). More inherited sockets than
// n is an error: a socket no worker accepts on would hold its share of the
// connections in its queue, never answered.
//
// The inherited sockets must be TCP listeners all bound to one address.
// Closing a dup never tears the socket down while another process (the new
// binary, systemd) holds it: its accept queue survives.
func Inherit(files []*os.File, n, backlog int) (fds []int, bound *net.TCPAddr, err error) {
	if len(files) > n {
		return nil, nil, fmt.Errorf("uringd: %d listening sockets inherited for %d workers: "+
			"each inherited socket needs a worker accepting on it (set Config.Workers to %d, or pass fewer sockets)",
			len(files), n, len(files))
	}
	defer func() {
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = nil
		}
	}()
	var reuse, v6only bool
	for i, f := range files {
		fd, ta, rp, v6, err := inheritOne(f)
		if err != nil {
			return fds, nil, fmt.Errorf("uringd: inherited listener %d (%s): %w", i, f.Name(), err)
		}
		fds = append(fds, fd)
		if i == 0 {
			bound, reuse, v6only = ta, rp, v6
		} else if !ta.IP.Equal(bound.IP) || ta.Port != bound.Port {
			return fds, nil, fmt.Errorf("uringd: inherited listeners are bound to %s and %s: a server serves one address", bound, ta)
		}
	}
	if len(fds) < n && !reuse {
		return fds, nil, fmt.Errorf("uringd: %d listening socket(s) inherited on %s for %d workers, and without SO_REUSEPORT "+
			"no socket can be added beside them: pass one socket per worker, set ReusePort=yes in the systemd .socket unit, "+
			"or set Config.Workers to %d", len(fds), bound, n, len(fds))
	}
	for len(fds) < n {
		fd, err := listenSibling(bound, v6only, backlog)
		if err != nil {
			if errors.Is(err, unix.EADDRINUSE) {
				err = fmt.Errorf("%w (a SO_REUSEPORT socket joins another only when both were created by the same user: "+
					"a socket systemd creates belongs to root; pass one socket per worker or set Config.Workers to %d)", err, len(files))
			}
			return fds, nil, fmt.Errorf("uringd: adding a listener beside the inherited ones on %s: %w", bound, err)
		}
		fds = append(fds, fd)
	}
	return fds, bound, nil
}

// inheritOne checks that f is a listening TCP socket and dups it. It reads
// the fd through SyscallConn: f.Fd() would clear O_NONBLOCK, a flag of the
// open file that the other holders of the socket share.
func inheritOne(f *os.File) (fd int, ta *net.TCPAddr, reuse, v6only bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, nil, false, false, err
	}
	fd = -1
	cerr := rc.Control(func(s uintptr) {
		sfd := int(s)
		var v int
		if v, err = unix.GetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
			err = fmt.Errorf("not a socket: %w", err)
			return
		}
		if v != unix.SOCK_STREAM {
			err = errors.New("not a stream socket")
			return
		}
		if v, err = unix.GetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v == 0 {
			err = errors.New("not a listening socket (listen(2) was not called on it)")
			return
		}
		var sa unix.Sockaddr
		if sa, err = unix.Getsockname(sfd); err != nil {
			return
		}
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			ta = &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
		case *unix.SockaddrInet6:
			ta = &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
			if a.ZoneId != 0 {
				if ifi, e := net.InterfaceByIndex(int(a.ZoneId)); e == nil {
					ta.Zone = ifi.Name
				}
			}
			v, _ = unix.GetsockoptInt(sfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
			v6only = v == 1
		default:
			err = fmt.Errorf("not a TCP/IP socket (%T): uringd serves TCP", sa)
			return
		}
		v, _ = unix.GetsockoptInt(sfd, unix.SOL_SOCKET, unix.SO_REUSEPORT)
		reuse = v == 1
		// Accepted sockets inherit TCP_NODELAY from the listener (see
		// listenOne); setting it on the shared socket affects no one's
		// existing connections.
		unix.SetsockoptInt(sfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return -1, nil, false, false, err
	}
	return fd, ta, reuse, v6only, nil
}

// listenSibling opens a listener that joins ta's SO_REUSEPORT group, with
// the same IPV6_V6ONLY as the inherited socket (a dual-stack [::] is
// listenOne's no-host case).
func listenSibling(ta *net.TCPAddr, v6only bool, backlog int) (int, error) {
	if ta.IP.To4() == nil && ta.IP.IsUnspecified() && !v6only {
		return listenOne(&net.TCPAddr{Port: ta.Port}, backlog)
	}
	if ta.IP.To4() == nil && v6only {
		family, sa, err := sockaddr(ta)
		if err != nil {
			return -1, err
		}
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return -1, fmt.Errorf("socket: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("setsockopt IPV6_V6ONLY: %w", err)
		}
		return finishListen(fd, sa, backlog)
	}
	return listenOne(ta, backlog)
}

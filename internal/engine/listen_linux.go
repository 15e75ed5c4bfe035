package engine

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"
)

// Listen opens n listening TCP sockets on addr ("host:port"), all bound to the
// same port with SO_REUSEPORT so the kernel spreads incoming connections over
// them: one per worker. Port 0 picks a free port for the first socket and the
// others join it. The sockets are blocking (io_uring does not need
// O_NONBLOCK) and close-on-exec. The caller owns the fds.
func Listen(addr string, n, backlog int) (fds []int, bound *net.TCPAddr, err error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("uringd: listen address %q: %w", addr, err)
	}
	defer func() {
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = nil
		}
	}()
	if ta.Port != 0 {
		if err := checkPortFree(ta); err != nil {
			return nil, nil, fmt.Errorf("uringd: listen on %s: %w", ta, err)
		}
	}
	for i := 0; i < n; i++ {
		fd, err := listenOne(ta, backlog)
		if err != nil {
			return fds, nil, fmt.Errorf("uringd: listen on %s: %w", ta, err)
		}
		fds = append(fds, fd)
		if ta.Port == 0 {
			sa, err := unix.Getsockname(fd)
			if err != nil {
				return fds, nil, fmt.Errorf("uringd: getsockname: %w", err)
			}
			ta = &net.TCPAddr{IP: ta.IP, Port: sockaddrPort(sa), Zone: ta.Zone}
		}
	}
	return fds, ta, nil
}

// listenOne opens one listener. An address without a host ("":8080") is
// dual-stack like net.Listen's: [::] with IPV6_V6ONLY off, or 0.0.0.0 when
// the kernel has no IPv6.
func listenOne(ta *net.TCPAddr, backlog int) (int, error) {
	family, sa, err := sockaddr(ta)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err == unix.EAFNOSUPPORT && ta.IP == nil {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port}
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	}
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if family == unix.AF_INET6 && ta.IP == nil {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("setsockopt IPV6_V6ONLY: %w", err)
		}
	}
	return finishListen(fd, sa, backlog)
}

// finishListen sets the options of every listener on a new socket fd,
// binds it to sa and listens; it closes fd on failure.
func finishListen(fd int, sa unix.Sockaddr, backlog int) (int, error) {
	for _, o := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o, 1); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("setsockopt: %w", err)
		}
	}
	// Accepted sockets inherit TCP_NODELAY from the listener (Linux clones
	// the listening socket), which saves a setsockopt per connection. A
	// response goes out in one send, so Nagle could only delay its tail.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setsockopt TCP_NODELAY: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listen: %w", err)
	}
	return fd, nil
}

// checkPortFree binds a throwaway socket without SO_REUSEPORT: it fails with
// EADDRINUSE when another process (same user) already listens there with
// SO_REUSEPORT, which our group would otherwise silently join, splitting
// the traffic with it (a stale server, a second instance). net.Listen users
// expect "address already in use"; so do we.
func checkPortFree(ta *net.TCPAddr) error {
	family, sa, err := sockaddr(ta)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err == unix.EAFNOSUPPORT && ta.IP == nil {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port}
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	}
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	if family == unix.AF_INET6 && ta.IP == nil {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) // TIME_WAIT is fine
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return nil
}

// sockaddr picks IPv6 (dual-stack) for no host, IPv4 for an IPv4 host, IPv6
// otherwise.
func sockaddr(ta *net.TCPAddr) (int, unix.Sockaddr, error) {
	if ta.IP == nil {
		return unix.AF_INET6, &unix.SockaddrInet6{Port: ta.Port}, nil
	}
	if ta.IP.To4() != nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ta.IP.To4())
		return unix.AF_INET, sa, nil
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	if ta.Zone != "" {
		ifi, err := net.InterfaceByName(ta.Zone)
		if err != nil {
			return 0, nil, err
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return unix.AF_INET6, sa, nil
}

func sockaddrPort(sa unix.Sockaddr) int {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	panic("uringd: unexpected sockaddr " + strconv.Quote(fmt.Sprintf("%T", sa)))
}

// AllowedCPUs lists the CPUs this process may run on (sched_getaffinity).
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("uringd: sched_getaffinity: %w", err)
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

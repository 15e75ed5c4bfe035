package engine

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestListenSharesPortAndAcceptedSocketsHaveNoDelay(t *testing.T) {
	fds, addr, err := Listen("127.0.0.1:0", 3, 16)
	require.NoError(t, err)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	require.Len(t, fds, 3)
	require.NotZero(t, addr.Port)
	for _, fd := range fds {
		sa, err := unix.Getsockname(fd)
		require.NoError(t, err)
		assert.Equal(t, addr.Port, sa.(*unix.SockaddrInet4).Port)
	}
	c, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer c.Close()
	// Whichever listener got it (SO_REUSEPORT hash), accept it there.
	for _, fd := range fds {
		unix.SetNonblock(fd, true)
	}
	for try := 0; try < 1000; try++ {
		for _, fd := range fds {
			nfd, _, err := unix.Accept(fd)
			if err != nil {
				continue
			}
			v, err := unix.GetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
			unix.Close(nfd)
			require.NoError(t, err)
			assert.Equal(t, 1, v, "TCP_NODELAY inherited from the listener")
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no listener had the connection")
}

func TestListenBadAddress(t *testing.T) {
	_, _, err := Listen("127.0.0.1:notaport", 1, 16)
	assert.ErrorContains(t, err, `listen address "127.0.0.1:notaport"`)
}

func TestListenWithoutHostIsDualStack(t *testing.T) {
	fds, addr, err := Listen(":0", 1, 16)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		c, err := net.Dial("tcp", host+":"+strconv.Itoa(addr.Port))
		if host == "[::1]" && err != nil {
			t.Logf("no IPv6 loopback here: %v", err)
			continue
		}
		require.NoError(t, err, host)
		c.Close()
	}
}

// A second server on a port that one already serves fails like net.Listen
// instead of silently sharing it through SO_REUSEPORT.
func TestListenRefusesAPortInUse(t *testing.T) {
	fds, addr, err := Listen("127.0.0.1:0", 1, 16)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	_, _, err = Listen(addr.String(), 2, 16)
	require.ErrorIs(t, err, unix.EADDRINUSE)
	assert.Contains(t, err.Error(), "address already in use")
}

package uring_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

const clients = 4

// dialClients connects n clients and returns their local ports, sorted.
func dialClients(t *testing.T, addr *unix.SockaddrInet4, n int) []int {
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		_, port := dialTCP(t, addr)
		ports = append(ports, port)
	}
	sort.Ints(ports)
	return ports
}

// acceptedPorts checks every accept CQE and returns the peers' ports, sorted.
func acceptedPorts(t *testing.T, cqes []uring.CQE) []int {
	ports := make([]int, 0, len(cqes))
	for _, c := range cqes {
		require.GreaterOrEqual(t, c.Res, int32(0), "accept failed: %v", unix.Errno(-c.Res))
		ports = append(ports, peerPort(t, int(c.Res)))
		unix.Close(int(c.Res))
	}
	sort.Ints(ports)
	return ports
}

func TestAcceptSingleShot(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/single-shot-accept-4-clients", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			lfd, addr := listenTCP(t)
			want := dialClients(t, addr, clients)

			var cqes []uring.CQE
			for i := 0; i < clients; i++ { // single-shot: re-arm after each
				s := r.GetSQE()
				s.PrepAccept(int32(lfd), unix.SOCK_CLOEXEC)
				s.SetUserData(uint64(i))
				c := waitCQE(t, r)
				assert.False(t, c.More(), "single-shot accept must not set F_MORE")
				cqes = append(cqes, c)
			}
			assert.Equal(t, want, acceptedPorts(t, cqes))
		})
	}
}

func TestAcceptMultishot(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/multishot-accept-4-clients-then-cancel", func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			need(t, r, uring.FeatMultishotAccept)
			lfd, addr := listenTCP(t)

			s := r.GetSQE()
			s.PrepAcceptMultishot(int32(lfd), unix.SOCK_CLOEXEC)
			s.SetUserData(7)
			_, err := r.Submit()
			require.NoError(t, err)
			want := dialClients(t, addr, clients)

			cqes := waitCQEs(t, r, clients)
			for _, c := range cqes {
				assert.Equal(t, uint64(7), c.UserData)
				assert.True(t, c.More(), "multishot accept stays armed")
			}
			assert.Equal(t, want, acceptedPorts(t, cqes))

			// Cancelling ends the stream: the last CQE lacks F_MORE.
			s = r.GetSQE()
			s.PrepCancel(7, 0)
			s.SetUserData(8)
			got := map[uint64]uring.CQE{}
			for _, c := range waitCQEs(t, r, 2) {
				got[c.UserData] = c
			}
			assert.Equal(t, -int32(unix.ECANCELED), got[7].Res)
			assert.False(t, got[7].More(), "a cancelled multishot must end without F_MORE")
			assert.Equal(t, int32(0), got[8].Res)
		})
	}
}

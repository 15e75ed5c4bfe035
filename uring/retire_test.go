package uring_test

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

// The memory of a buffer group closed while its ring was open is given up
// only after the ring's fd is closed, and even then the kernel may still be
// tearing the ring down (cancelling a recv that selected a buffer): its
// addresses must never be handed out again, so that a late write cannot
// land in a new mapping. Its pages are freed (no memory kept).
func TestClosedRingBufferMemoryIsNotReused(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			g, err := r.NewBufferGroup(3, 8, 64<<10, provideUD)
			require.NoError(t, err)
			pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			require.NoError(t, err)
			defer unix.Close(pair[0])
			defer unix.Close(pair[1])
			// A recv that selects from the group, in flight when the ring closes.
			sqe := r.GetSQE()
			sqe.PrepRecvSelect(int32(pair[0]), 3, 0)
			sqe.SetUserData(1)
			_, err = r.Submit()
			require.NoError(t, err)
			buf := g.Buf(0)
			addr := unsafe.Pointer(&buf[0])
			size := uintptr(8 * (64 << 10))
			require.NoError(t, g.Close())
			require.NoError(t, r.Close())

			// A new mapping asked for at exactly those addresses (a hint, not
			// MAP_FIXED) does not get them: they are still reserved.
			p, err := unix.MmapPtr(-1, 0, addr, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
			require.NoError(t, err)
			defer unix.MunmapPtr(p, size)
			assert.NotEqual(t, uintptr(addr), uintptr(p), "the closed ring's buffer addresses were handed out again")
			// And they hold no memory: mincore reports no resident page.
			vec := make([]byte, size/uintptr(unix.Getpagesize()))
			_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(addr), size, uintptr(unsafe.Pointer(&vec[0])))
			require.Zero(t, e)
			for i, v := range vec {
				require.Zero(t, v&1, "page %d still resident", i)
			}
		})
	}
}

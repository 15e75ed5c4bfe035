package uring_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/uringd/uringd/uring"
)

const recvUD = 42

// recvMode says how a test under c receives: multishot when the ring can,
// otherwise single-shot re-armed, like the worker does. It is computed from
// the probe because a subtest runs on a new goroutine, and the ring must be
// created on the goroutine that uses it.
func recvMode(c config) string {
	p, _ := uring.Probe()
	f := p.Features &^ c.disable
	kind := "classic-provided-buffers"
	if f.Has(uring.FeatBufRing) {
		kind = "buffer-ring"
	}
	if f.Has(uring.FeatMultishotRecv) {
		return "multishot-recv/" + kind
	}
	return "single-shot-recv/" + kind
}

// armRecv queues a receive on fd selecting from g.
func armRecv(r *uring.Ring, fd int, g uring.BufferGroup) {
	s := r.GetSQE()
	if r.Features().Has(uring.FeatMultishotRecv) {
		s.PrepRecvMultishot(int32(fd), g.Group())
	} else {
		s.PrepRecvSelect(int32(fd), g.Group(), 0)
	}
	s.SetUserData(recvUD)
}

func newGroup(t *testing.T, r *uring.Ring, count uint16) uring.BufferGroup {
	g, err := r.NewBufferGroup(1, count, 64, provideUD)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, g.Close()) })
	return g
}

// The kernel promises that a selected buffer leaves the group until it is
// given back, not which free buffer it picks next: buffer rings and 6.x
// classic groups hand them out in order, 5.10's classic groups take the most
// recently provided one (io_buffer_select: list_last_entry), so a buffer
// recycled at once is picked again. The test holds buffers to check the
// promise and recycles to check reuse, whatever the order.
func TestRecvStreamWithBufferIDs(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/"+recvMode(c), func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 16, Disable: c.disable})
			{
				a, b := socketPair(t)
				g := newGroup(t, r, 4)
				armRecv(r, b, g)
				// recvOne receives msg and re-arms a finished recv only
				// after the caller's recycles are queued: a recv armed on an
				// empty group fails with ENOBUFS. A multishot recv left
				// armed on a drained group may end with ENOBUFS before any
				// data comes (6.1 selects the buffer first); dry says that
				// may be pending, and then the recv is re-armed once.
				more, dry := true, false
				recvOne := func(msg string) uint16 {
					t.Helper()
					_, err := unix.Write(a, []byte(msg))
					require.NoError(t, err)
					cqe := waitOp(t, r)
					if dry && cqe.Res == -int32(unix.ENOBUFS) {
						require.False(t, cqe.More(), "ENOBUFS ends a multishot recv")
						armRecv(r, b, g)
						cqe = waitOp(t, r)
					}
					dry = false
					require.Equal(t, uint64(recvUD), cqe.UserData)
					require.Equal(t, int32(len(msg)), cqe.Res, "recv: %v", unix.Errno(-cqe.Res))
					bid, ok := cqe.BufferID()
					require.True(t, ok, "recv with buffer select must report a buffer id")
					require.Less(t, bid, g.Count())
					assert.Equal(t, msg, string(g.Buf(bid)[:cqe.Res]))
					more = cqe.More()
					return bid
				}
				rearm := func() {
					if !more {
						armRecv(r, b, g)
					}
				}
				held := map[uint16]bool{}
				for i := 0; i < 4; i++ { // the whole group, none given back
					bid := recvOne(fmt.Sprintf("held %d", i))
					assert.False(t, held[bid], "buffer %d handed out twice while held", bid)
					held[bid] = true
					if i < 3 {
						rearm()
					}
				}
				assert.Len(t, held, 4, "every buffer of the group was used")
				for bid := range held {
					g.Recycle(bid)
				}
				dry = more
				rearm()
				for i := 0; i < 6; i++ { // more messages than buffers: recycling works
					g.Recycle(recvOne(fmt.Sprintf("message %d", i)))
					rearm()
				}

				// EOF ends the stream: res 0, no F_MORE, no buffer.
				require.NoError(t, unix.Shutdown(a, unix.SHUT_WR))
				cqe := waitOp(t, r)
				assert.Equal(t, int32(0), cqe.Res)
				assert.False(t, cqe.More(), "EOF must end a multishot recv")
			}
		})
	}
}

func TestRecvENOBUFSThenRecycle(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name+"/"+recvMode(c), func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 16, Disable: c.disable})
			{
				a, b := socketPair(t)
				g := newGroup(t, r, 2)
				armRecv(r, b, g)
				var held []uint16
				for i := 0; i < 2; i++ { // drain the group, keep the buffers
					_, err := unix.Write(a, []byte("x"))
					require.NoError(t, err)
					cqe := waitOp(t, r)
					require.Equal(t, int32(1), cqe.Res)
					bid, ok := cqe.BufferID()
					require.True(t, ok)
					held = append(held, bid)
					if !cqe.More() {
						armRecv(r, b, g)
					}
				}
				_, err := unix.Write(a, []byte("after"))
				require.NoError(t, err)
				cqe := waitOp(t, r)
				assert.Equal(t, -int32(unix.ENOBUFS), cqe.Res, "empty group: got %d", cqe.Res)
				assert.False(t, cqe.More(), "ENOBUFS ends a multishot recv: the caller must see it")

				for _, bid := range held {
					g.Recycle(bid)
				}
				armRecv(r, b, g)
				cqe = waitOp(t, r)
				require.Equal(t, int32(5), cqe.Res, "recv after recycle: %v", unix.Errno(-cqe.Res))
				bid, ok := cqe.BufferID()
				require.True(t, ok)
				assert.Equal(t, "after", string(g.Buf(bid)[:5]))
			}
		})
	}
}

func TestRecvIntoBuffer(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRing(t, uring.Options{Entries: 8, Disable: c.disable})
			a, b := socketPair(t)
			in := mmapBuf(t, 32)
			s := r.GetSQE()
			s.PrepRecv(int32(b), in, 0)
			s.SetUserData(1)
			_, err := r.Submit()
			require.NoError(t, err)
			_, err = unix.Write(a, []byte("ping"))
			require.NoError(t, err)
			cqe := waitCQE(t, r)
			assert.Equal(t, int32(4), cqe.Res)
			_, ok := cqe.BufferID()
			assert.False(t, ok, "no buffer selected for a plain recv")
			assert.Equal(t, "ping", string(in[:4]))
		})
	}
}

func TestBufferGroupUnsupportedWhenDisabled(t *testing.T) {
	r := newTestRing(t, uring.Options{Entries: 4, Disable: uring.FeatureSet(uring.FeatBufRing, uring.FeatProvideBuffers)})
	_, err := r.NewBufRing(3, 4, 64)
	assert.ErrorIs(t, err, uring.ErrUnsupported)
	_, err = r.NewProvidedBuffers(3, 4, 64, provideUD)
	assert.ErrorIs(t, err, uring.ErrUnsupported)
}

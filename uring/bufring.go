package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// BufferGroup is a provided-buffer group the kernel picks receive buffers
// from (IOSQE_BUFFER_SELECT): either a ring-mapped BufRing (5.19+) or the
// classic ProvidedBuffers (5.7+). Both have the same method set.
//
// Ownership: after a CQE reports buffer id bid (CQE.BufferID), Buf(bid)
// belongs to the caller until Recycle(bid) gives it back. Recycle each id
// exactly once per completion that reported it.
type BufferGroup interface {
	Group() uint16         // the bgid to pass to PrepRecvSelect / PrepRecvMultishot
	Count() uint16         // number of buffers
	Size() int             // bytes per buffer
	Buf(bid uint16) []byte // the whole buffer bid (len Size)
	Recycle(bid uint16)    // give bid back to the kernel
	Close() error          // unregister; memory is freed when safe
}

// NewBufferGroup creates a BufRing when the ring has FeatBufRing and
// ProvidedBuffers otherwise (then userData is what its PROVIDE_BUFFERS
// SQEs carry; see NewProvidedBuffers).
func (r *Ring) NewBufferGroup(bgid uint16, count uint16, size int, userData uint64) (BufferGroup, error) {
	if r.features.Has(FeatBufRing) {
		return r.NewBufRing(bgid, count, size)
	}
	return r.NewProvidedBuffers(bgid, count, size, userData)
}

// BufRing is a ring-mapped provided-buffer group (IORING_REGISTER_PBUF_RING,
// kernel 5.19+, liburing: io_uring_setup_buf_ring + io_uring_buf_ring_add +
// io_uring_buf_ring_advance). Its ring and its buffers are mmap'd, off the
// Go heap. Not safe for concurrent use: it belongs to the ring's goroutine.
type BufRing struct {
	r       *Ring
	bgid    uint16
	count   uint16 // power of two
	mask    uint16
	size    int
	ringMem []byte         // mmap'd struct io_uring_buf[count], shared with the kernel
	entries []bufRingEntry // view of ringMem
	// tailWord is bytes 12..15 of ringMem: bufs[0].bid (low half) and the
	// ring tail (high half, overlaying bufs[0].resv). Go has no 16-bit
	// atomic store, so the tail is published with a 32-bit store that
	// rewrites bufs[0].bid with the value it already has (we are its only
	// writer). Little-endian only, like every platform io_uring runs Go on.
	tailWord *uint32
	bufs     []byte // mmap'd buffer memory, count*size
	tail     uint16 // local tail; published by publish
	closed   bool
}

// NewBufRing registers buffer group bgid with count buffers (a power of two,
// at most 32768) of size bytes each, all handed to the kernel at once.
// It returns an error wrapping ErrUnsupported when the ring lacks FeatBufRing.
func (r *Ring) NewBufRing(bgid uint16, count uint16, size int) (*BufRing, error) {
	if !r.features.Has(FeatBufRing) {
		return nil, fmt.Errorf("uring: buffer ring (IORING_REGISTER_PBUF_RING) needs Linux 5.19+ and is not available or disabled: %w", ErrUnsupported)
	}
	if count == 0 || count&(count-1) != 0 || count > 32768 || size <= 0 || size > 1<<31-1 {
		return nil, fmt.Errorf("uring: NewBufRing: count %d must be a power of two <= 32768 and size %d in 1..2^31-1", count, size)
	}
	b := &BufRing{r: r, bgid: bgid, count: count, mask: count - 1, size: size}
	var err error
	if b.ringMem, err = Mmap(int(count) * int(unsafe.Sizeof(bufRingEntry{}))); err != nil {
		return nil, err
	}
	if b.bufs, err = Mmap(int(count) * size); err != nil {
		Munmap(b.ringMem)
		return nil, err
	}
	b.entries = unsafe.Slice((*bufRingEntry)(unsafe.Pointer(&b.ringMem[0])), count)
	b.tailWord = (*uint32)(unsafe.Pointer(&b.ringMem[12]))
	reg := bufReg{RingAddr: addrOf(b.ringMem), RingEntries: uint32(count), Bgid: bgid}
	if err := register(r.fd, RegisterPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		Munmap(b.ringMem)
		Munmap(b.bufs)
		if errors.Is(err, syscall.EEXIST) {
			return nil, fmt.Errorf("uring: buffer group %d already registered on this ring: %w", bgid, err)
		}
		return nil, fmt.Errorf("uring: register buffer ring %d: %w", bgid, err)
	}
	for bid := 0; bid < int(count); bid++ {
		b.put(uint16(bid))
	}
	b.publish()
	return b, nil
}

// Group returns the buffer group id.
func (b *BufRing) Group() uint16 { return b.bgid }

// Count returns the number of buffers.
func (b *BufRing) Count() uint16 { return b.count }

// Size returns the size of each buffer.
func (b *BufRing) Size() int { return b.size }

// Buf returns the whole buffer bid (len Size); the CQE's res says how many
// bytes the kernel wrote.
func (b *BufRing) Buf(bid uint16) []byte {
	off := int(bid) * b.size
	return b.bufs[off : off+b.size : off+b.size]
}

// Recycle gives buffer bid back to the kernel. It is published at once (one
// atomic store, no syscall): the kernel can pick it for the next receive,
// including for a multishot recv that is already armed.
func (b *BufRing) Recycle(bid uint16) {
	b.put(bid)
	b.publish()
}

// put writes bid into the next free ring slot without publishing it. It
// writes the fields one by one: bufs[0].resv is the shared tail.
func (b *BufRing) put(bid uint16) {
	e := &b.entries[b.tail&b.mask]
	e.Addr = addrOf(b.bufs) + uint64(bid)*uint64(b.size)
	e.Len = uint32(b.size)
	e.Bid = bid
	b.tail++
}

// publish makes every put visible to the kernel (release store of the tail).
func (b *BufRing) publish() {
	atomic.StoreUint32(b.tailWord, uint32(b.entries[0].Bid)|uint32(b.tail)<<16)
}

// Close unregisters the group. Cancel operations that select from it
// first. The memory is retired (Retire) when the ring closes (at once if it
// is already closed), so a late kernel write can never land in reused memory.
func (b *BufRing) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	var err error
	if !b.r.closed {
		reg := bufReg{Bgid: b.bgid}
		if e := register(b.r.fd, UnregisterPbufRing, unsafe.Pointer(&reg), 1); e != nil {
			err = fmt.Errorf("uring: unregister buffer ring %d: %w", b.bgid, e)
		}
	}
	return errors.Join(err, b.r.release(b.ringMem), b.r.release(b.bufs))
}

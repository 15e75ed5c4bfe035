package uring

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mmap returns size bytes (the mapping is rounded up to whole pages) of
// anonymous, private, zeroed, page-aligned memory outside the Go heap. It is
// the home for every buffer the kernel reads or writes after an SQE is
// submitted: the GC never moves or frees it, and it is never on a goroutine
// stack. Release it with Munmap, and only when no submitted operation still
// refers to it.
func Mmap(size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("uring: Mmap size %d must be positive", size)
	}
	b, err := mmapBytes(-1, 0, pageRound(size), unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap %d bytes: %w", size, err)
	}
	return b[:size:size], nil
}

// Munmap releases memory returned by Mmap (the whole mapping, whatever
// length the slice has now, as long as its start and capacity are unchanged).
func Munmap(b []byte) error {
	if cap(b) == 0 {
		return nil
	}
	if err := munmapBytes(b); err != nil {
		return fmt.Errorf("uring: munmap: %w", err)
	}
	return nil
}

// Retire releases memory returned by Mmap that the kernel may still write
// to, as a request it was named in may be completing (a ring whose
// teardown is under way): its pages are freed at once, but its addresses
// stay mapped, inaccessible (PROT_NONE, no swap reserved), for the life of
// the process, so no later mapping can get them and a late write fails
// (EFAULT) instead of landing in someone else's memory. The cost is
// address space only.
func Retire(b []byte) error {
	if cap(b) == 0 {
		return nil
	}
	b = b[:cap(b)]
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(&b[0]), uintptr(pageRound(len(b))), unix.PROT_NONE,
		unix.MAP_FIXED|unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("uring: retiring %d bytes: %w", len(b), err)
	}
	return nil
}

func pageRound(n int) int {
	page := unix.Getpagesize()
	return (n + page - 1) &^ (page - 1)
}

// mmapBytes maps size bytes read-write with the given flags. It bypasses
// unix.Mmap's bookkeeping (a global map keyed by the slice) so slices can be
// re-sliced freely and Munmap takes any slice with the original start and cap.
func mmapBytes(fd int, off uint64, size int, flags int) ([]byte, error) {
	p, err := unix.MmapPtr(fd, int64(off), nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), size), nil
}

// munmapBytes unmaps the pages covering b[:cap(b)].
func munmapBytes(b []byte) error {
	b = b[:cap(b)]
	return unix.MunmapPtr(unsafe.Pointer(&b[0]), uintptr(pageRound(len(b))))
}

// addrOf returns the address of b's first byte, or 0 for an empty slice.
// The caller keeps b alive (and off the stack) until the kernel is done.
func addrOf(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

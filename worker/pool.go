package worker

import (
	"fmt"
	"math/bits"

	"github.com/uringd/uringd/uring"
)

// pool hands out buffers that live outside the Go heap (uring.Mmap), so the
// kernel may read or write them while an operation is in flight without the
// GC moving or freeing them. One pool per worker, used only by its thread: no
// locks.
//
// Buffers come in power-of-two size classes from minBuf up. Classes up to
// slabMaxClass are carved out of slabs of slabSize bytes (few mappings, even
// with many connections); bigger ones are mapped one by one and kept for
// reuse up to keepLargeBytes of idle large buffers per worker, beyond which a
// returned one is unmapped. A byte budget, not a count per class: with a
// count of 4, forty connections streaming 64 KiB responses mapped and
// unmapped a 128 KiB buffer per request (munmap was 17% of the CPU). Slabs are never unmapped: the
// memory of a traffic spike is kept for the next one.
//
// Invariant: a buffer named in a submitted SQE is not in the pool. Callers
// return a buffer with put only after the CQE of its last operation.
//
// Nothing here panics on a size or a failed mapping: a client chooses the
// sizes of input buffers (tryGet fails, the caller answers 413 or 503), and
// an mmap that fails for an output buffer (get) falls back to the Go heap.
// A heap buffer may be named in an SQE like a mapped one: Go's GC does not
// move heap objects, and the connection that holds it keeps it alive until
// its operation's CQE, as it does any buffer.
type pool struct {
	free    [nClasses][][]byte // free buffers of each class, len 0, cap = class size
	poison  bool               // overwrite buffers on put (Config.DebugPoisonBuffers)
	mapped  int                // bytes mapped, for Stats
	idleBig int                // bytes of free buffers above slabMaxClass
	inUse   int                // buffers handed out and not yet returned (leak check)
	onHeap  int                // heap fallbacks handed out by get, not yet returned

	// mmap maps new memory: uring.Mmap, or a test's failing stand-in.
	mmap func(size int) ([]byte, error)
}

const (
	minBufShift    = 12 // 4 KiB
	nClasses       = 22 // up to 8 GiB: a head and a body of MaxBody (4 GiB at most)
	slabMaxClass   = 64 << 10
	slabSize       = 1 << 20
	keepLargeBytes = 16 << 20
	poisonByte     = 0xdd
)

func classOf(n int) int {
	if n <= 1<<minBufShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minBufShift
}

// get returns an empty buffer with capacity at least n (n > 0). If no
// memory can be mapped, or n is past the largest class, the buffer comes
// from the Go heap (put recognises it by its odd capacity, never a class
// size): the server's own output must not take the process down.
func (p *pool) get(n int) []byte {
	if b := p.tryGet(n); b != nil {
		return b
	}
	p.onHeap++
	return make([]byte, 0, n|1)
}

// tryGet is get for sizes a client chooses (input): nil when n is past the
// largest class or the memory cannot be mapped.
func (p *pool) tryGet(n int) []byte {
	c := classOf(n)
	if c >= nClasses {
		return nil
	}
	fl := p.free[c]
	if len(fl) == 0 {
		if !p.refill(c) {
			return nil
		}
		fl = p.free[c]
	}
	b := fl[len(fl)-1]
	p.free[c] = fl[:len(fl)-1]
	if cap(b) > slabMaxClass {
		p.idleBig -= cap(b)
	}
	p.inUse++
	return b[:0]
}

// classBytes is the capacity of the buffer tryGet(n) returns.
func classBytes(n int) int { return 1 << (classOf(n) + minBufShift) }

// put returns b (from get, same start and capacity) to the pool.
func (p *pool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	c := classOf(cap(b))
	if 1<<(c+minBufShift) != cap(b) {
		if p.onHeap > 0 && cap(b)&1 == 1 {
			p.onHeap-- // a heap fallback of get: the GC takes it
			return
		}
		panic(fmt.Sprintf("uringd: pool.put of a foreign buffer (cap %d)", cap(b)))
	}
	p.inUse--
	b = b[:0]
	if p.poison {
		full := b[:cap(b)]
		for i := range full {
			full[i] = poisonByte
		}
	}
	if cap(b) > slabMaxClass {
		if p.idleBig+cap(b) > keepLargeBytes {
			p.mapped -= cap(b)
			if err := uring.Munmap(b); err != nil {
				panic(err) // only EINVAL is possible: a bug in the pool
			}
			return
		}
		p.idleBig += cap(b)
	}
	p.free[c] = append(p.free[c], b)
}

// putCold is put for a buffer sized by a burst of input rather than by
// steady traffic (a streamed body's stash, body.go): a large one is
// unmapped at once instead of kept idle, where its touched pages would
// stay resident with little chance of reuse.
func (p *pool) putCold(b []byte) {
	if cap(b) <= slabMaxClass || 1<<(classOf(cap(b))+minBufShift) != cap(b) {
		p.put(b) // slab memory, or a heap fallback
		return
	}
	p.inUse--
	p.mapped -= cap(b)
	if err := uring.Munmap(b[:0]); err != nil {
		panic(err) // only EINVAL is possible: a bug in the pool
	}
}

// refill maps memory for class c; false if the kernel refused it.
func (p *pool) refill(c int) bool {
	size := 1 << (c + minBufShift)
	mapSize := size
	if size <= slabMaxClass {
		mapSize = slabSize
	}
	mmap := p.mmap
	if mmap == nil {
		mmap = uring.Mmap
	}
	m, err := mmap(mapSize)
	if err != nil {
		return false
	}
	p.mapped += mapSize
	if size > slabMaxClass {
		p.idleBig += size // get takes it back off
	}
	for off := 0; off+size <= mapSize; off += size {
		p.free[c] = append(p.free[c], m[off:off:off+size])
	}
	return true
}

// grow returns a buffer holding b's bytes with room for extra more, taking a
// bigger one from the pool when needed (get: it does not fail). The old
// buffer is NOT returned: the caller decides (it may still be pinned by an
// in-flight send).
func (p *pool) grow(b []byte, extra int) []byte {
	if cap(b)-len(b) >= extra {
		return b
	}
	need := len(b) + extra
	if need < 2*cap(b) {
		need = 2 * cap(b)
	}
	nb := p.get(need)
	return append(nb, b...)
}

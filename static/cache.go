package static

import (
	"sync"
	"sync/atomic"
)

// entry is a cached small file: its body and the header values of its
// responses, prepared once when the file is read. Immutable once published,
// except ref; a change on disk publishes a new entry under the same key.
type entry struct {
	key   string   // lookup key: the clean name, with a trailing '/' for a directory's index
	file  string   // the file actually read (key, or key + index file)
	info  fileInfo // what the file was when read: the revalidator compares
	ctype string
	val   repr // the file itself (identity)
	body  []byte
	sib   *siblings // Config.Precompressed: the encoded siblings; nil when off
	size  int64     // bytes held: body and the siblings' bodies

	ref atomic.Bool // clock bit: set on a hit, cleared by the eviction hand
	idx int         // position in cache.ring; guarded by cache.mu
}

// cache maps keys to entries, bounded in total body bytes, with clock
// (second-chance) eviction: a hit only sets a bit, so readers never write
// shared state under the lock beyond that one flag (which they only write
// when it is clear, to keep the cache line from bouncing between workers).
//
// Readers (workers) take the read lock for one map lookup; writers (misses,
// the revalidator) take the write lock. A RWMutex is enough: writes are rare
// (fills and changes), and the lock is held for a map operation only — files
// are read before taking it.
type cache struct {
	mu    sync.RWMutex
	m     map[string]*entry
	ring  []*entry // clock order (insertion); hand walks it
	hand  int
	bytes int64 // sum of entry.size
	limit int64
}

func newCache(limit int64) *cache {
	return &cache{m: make(map[string]*entry), limit: limit}
}

// get returns the entry for key, or nil. The string(key) conversion in the
// map index does not allocate.
func (c *cache) get(key []byte) *entry {
	c.mu.RLock()
	e := c.m[string(key)]
	c.mu.RUnlock()
	if e != nil && !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

// put publishes e, replacing any entry under the same key, and evicts until
// the total fits the limit. An entry larger than the whole limit is not kept.
func (c *cache) put(e *entry) {
	size := e.size
	if size > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[e.key]; old != nil {
		c.removeLocked(old)
	}
	for c.bytes+size > c.limit && len(c.ring) > 0 {
		c.evictOneLocked()
	}
	e.idx = len(c.ring)
	c.ring = append(c.ring, e)
	c.m[e.key] = e
	c.bytes += size
}

// replace publishes e only if old is still the entry for its key (the
// revalidator read the new version while a miss may have done the same).
func (c *cache) replace(old, e *entry) {
	c.mu.RLock()
	cur := c.m[old.key]
	c.mu.RUnlock()
	if cur == old {
		c.put(e)
	}
}

// remove drops e if it is still published.
func (c *cache) remove(e *entry) {
	c.mu.Lock()
	if c.m[e.key] == e {
		c.removeLocked(e)
	}
	c.mu.Unlock()
}

func (c *cache) evictOneLocked() {
	for {
		if c.hand >= len(c.ring) {
			c.hand = 0
		}
		e := c.ring[c.hand]
		if e.ref.Load() {
			e.ref.Store(false) // second chance
			c.hand++
			continue
		}
		c.removeLocked(e)
		return
	}
}

// removeLocked unlinks e: swap-remove from the ring (the moved entry lands
// where the hand will look next, a small unfairness clock tolerates).
func (c *cache) removeLocked(e *entry) {
	last := len(c.ring) - 1
	moved := c.ring[last]
	c.ring[e.idx] = moved
	moved.idx = e.idx
	c.ring[last] = nil
	c.ring = c.ring[:last]
	delete(c.m, e.key)
	c.bytes -= e.size
}

// snapshot returns the published entries (for the revalidator).
func (c *cache) snapshot(dst []*entry) []*entry {
	c.mu.RLock()
	dst = append(dst[:0], c.ring...)
	c.mu.RUnlock()
	return dst
}

// stats reports the number of entries and their bytes.
func (c *cache) stats() (n int, bytes int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.ring), c.bytes
}

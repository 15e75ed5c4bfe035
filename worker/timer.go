package worker

// wheel is a hashed timing wheel of per-slot deadlines, counted in ticks.
//
// Each slot has at most one deadline. A slot sits in the bucket of the tick it
// was linked for (node.at); moving its deadline later is a plain write (the
// slot is re-bucketed lazily when its bucket comes round), moving it earlier
// relinks it. Deadlines further than one rotation away stay in their bucket
// and are compared again each rotation. All operations are O(1) except
// advance, which is O(buckets walked + slots in them). No allocation once the
// node table and the expired slice have grown to the connection count.
type wheel struct {
	buckets []int32 // head node of each bucket's list; -1 when empty
	nodes   []timerNode
	mask    uint64
	now     uint64 // last tick advanced to
}

type timerNode struct {
	deadline uint64 // tick at which the slot expires; 0 = no deadline
	at       uint64 // tick of the bucket the node is linked in
	prev     int32  // -1 at the head of its bucket
	next     int32  // -1 at the tail
	linked   bool
}

func newWheel(size int) *wheel {
	if size&(size-1) != 0 {
		panic("wheel size must be a power of two")
	}
	w := &wheel{buckets: make([]int32, size), mask: uint64(size - 1)}
	for i := range w.buckets {
		w.buckets[i] = -1
	}
	return w
}

func (w *wheel) node(slot uint32) *timerNode {
	for int(slot) >= len(w.nodes) {
		w.nodes = append(w.nodes, timerNode{prev: -1, next: -1})
	}
	return &w.nodes[slot]
}

// set gives slot the deadline now+ticks (ticks >= 1), replacing any other.
func (w *wheel) set(slot uint32, ticks uint64) {
	w.setAt(slot, w.now+max(ticks, 1))
}

// setAt gives slot the deadline tick d (at least the next tick), replacing
// any other.
func (w *wheel) setAt(slot uint32, d uint64) {
	d = max(d, w.now+1)
	n := w.node(slot)
	n.deadline = d
	if n.linked && n.at <= d {
		return // its bucket comes first; advance re-buckets it then
	}
	w.unlink(slot)
	w.link(slot, d)
}

// clear removes slot's deadline.
func (w *wheel) clear(slot uint32) {
	if int(slot) < len(w.nodes) {
		w.nodes[slot].deadline = 0
		w.unlink(slot)
	}
}

// deadline reports slot's deadline tick (0 = none).
func (w *wheel) deadline(slot uint32) uint64 {
	if int(slot) < len(w.nodes) {
		return w.nodes[slot].deadline
	}
	return 0
}

func (w *wheel) link(slot uint32, at uint64) {
	n := &w.nodes[slot]
	b := &w.buckets[at&w.mask]
	n.at, n.prev, n.next, n.linked = at, -1, *b, true
	if *b >= 0 {
		w.nodes[*b].prev = int32(slot)
	}
	*b = int32(slot)
}

func (w *wheel) unlink(slot uint32) {
	n := &w.nodes[slot]
	if !n.linked {
		return
	}
	if n.prev >= 0 {
		w.nodes[n.prev].next = n.next
	} else {
		w.buckets[n.at&w.mask] = n.next
	}
	if n.next >= 0 {
		w.nodes[n.next].prev = n.prev
	}
	n.prev, n.next, n.linked = -1, -1, false
}

// advance moves the wheel to tick to and appends to expired every slot whose
// deadline is <= to; those slots lose their deadline. It walks each bucket at
// most once, so a worker that was stalled for many ticks catches up in one call.
func (w *wheel) advance(to uint64, expired []uint32) []uint32 {
	if to <= w.now {
		return expired
	}
	steps := to - w.now
	if steps > w.mask+1 {
		steps = w.mask + 1
	}
	for i := uint64(1); i <= steps; i++ {
		b := (w.now + i) & w.mask
		for s := w.buckets[b]; s >= 0; {
			n := &w.nodes[s]
			next := n.next
			switch {
			case n.deadline != 0 && n.deadline <= to:
				n.deadline = 0
				w.unlink(uint32(s))
				expired = append(expired, uint32(s))
			case n.deadline == 0:
				w.unlink(uint32(s))
			case n.deadline&w.mask != b:
				w.unlink(uint32(s))
				w.link(uint32(s), n.deadline)
			default:
				n.at = n.deadline // same bucket, a later rotation
			}
			s = next
		}
	}
	w.now = to
	return expired
}

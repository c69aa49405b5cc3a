package state

// slotIndex finds dedup slots by the 64-bit hash of their key: open addressing with
// linear probing in a power-of-two table of words, each the upper half of a hash (a
// fingerprint) over the slot number plus one (0: an empty place). A probe compares
// fingerprints within one cache line and reads a slot only when one matches; a Go map
// of hashes to slots cost two probes per new message and one more to delete it.
// Entries are never deleted one by one (the table is rebuilt after a sweep), so that
// probing needs no tombstones. The table is at most half full: probes stay short.
type slotIndex struct {
	tab []uint64
	n   int // entries
}

// minIndex is the size of a fresh index (8 KB).
const minIndex = 1024

// newSlotIndex returns an empty index of size places, a power of two.
func newSlotIndex(size int) slotIndex {
	return slotIndex{tab: make([]uint64, size)}
}

// home is where the probe for hash h starts: its lower bits, the fingerprint being
// its upper half.
func (x *slotIndex) home(h uint64) int { return int(h & uint64(len(x.tab)-1)) }

func (x *slotIndex) next(p int) int { return (p + 1) & (len(x.tab) - 1) }

// full reports whether one more entry would fill the table beyond half.
func (x *slotIndex) full() bool { return 2*(x.n+1) > len(x.tab) }

// put stores slot i of hash h at p, the empty place its probe ended on.
func (x *slotIndex) put(p int, h uint64, i int32) {
	x.tab[p] = h>>32<<32 | uint64(i+1)
	x.n++
}

// insert stores slot i of hash h at the first empty place of its probe.
func (x *slotIndex) insert(h uint64, i int32) {
	p := x.home(h)
	for x.tab[p] != 0 {
		p = x.next(p)
	}
	x.put(p, h, i)
}

func (x *slotIndex) clear() {
	clear(x.tab)
	x.n = 0
}

// slotPageBits sizes a page of dedup slots: 512 slots, about 60 KB.
const slotPageBits = 9

// slotPages is a growable array of dedup slots in fixed pages: adding a page never
// moves the slots already there, where a slice's growth copies them all (with their
// pointers, for the collector) each time it doubles.
type slotPages struct {
	pages []*[1 << slotPageBits]dedupSlot
	n     int32
}

// at returns slot i, which add has returned before.
func (s *slotPages) at(i int32) *dedupSlot {
	return &s.pages[i>>slotPageBits][i&(1<<slotPageBits-1)]
}

// add appends a zero slot and returns its number.
func (s *slotPages) add() int32 {
	if int(s.n>>slotPageBits) == len(s.pages) {
		s.pages = append(s.pages, new([1 << slotPageBits]dedupSlot))
	}
	s.n++
	return s.n - 1
}

func (s *slotPages) len() int32 { return s.n }

// cap is how many slots the pages hold.
func (s *slotPages) cap() int { return len(s.pages) << slotPageBits }

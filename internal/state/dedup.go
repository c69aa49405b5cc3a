package state

import (
	"hash/maphash"
	"sort"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Repeat is one message seen more than once from one host within the dedup window: it is
// emitted once and counted, as syslog's "last message repeated N times" does.
type Repeat struct {
	Host    string    `json:"host"`
	Rule    string    `json:"rule"`
	Message string    `json:"message"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int64     `json:"count"`
}

// dedupTable keeps the messages of the current window. A message is found by a 64-bit
// hash of its key (host, rule, message, assert, test) in an index of slots, the key's
// strings compared on a hit: hashing three strings into a map keyed by them, with one
// allocated record per message, cost more than the rest of the state stage together.
// The slots live in fixed pages, so that a window of many distinct messages grows the
// table without copying it (the copies of one growing slice cost a third of the stage).
type dedupTable struct {
	window time.Duration
	seed   maphash.Seed
	index  slotIndex
	slots  slotPages
	free   []int32 // slots of expired messages, reused
	live   int
	// retired holds repeats whose window ended, the largest kept.
	retired []Repeat
	sweep   time.Time
}

type dedupSlot struct {
	Repeat
	hash   uint64
	assert event.Tri
	test   bool
	used   bool
}

const maxRetired = 1000

// maxLive bounds the messages of one window that the table tracks, so that a burst of
// distinct messages (a flood of a million lines in five minutes) cannot grow memory
// without bound: beyond it, messages not already tracked are passed on as new (never
// as repeats, so nothing is held back) and not remembered until the window's sweep
// frees room.
const maxLive = 200_000

func newDedupTable(window time.Duration) *dedupTable {
	return &dedupTable{window: window, seed: maphash.MakeSeed(), index: newSlotIndex(minIndex)}
}

func (d *dedupTable) hash(ev *event.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(ev.Host)
	h.WriteByte(0)
	h.WriteString(ev.Rule)
	h.WriteByte(0)
	h.WriteString(ev.Message)
	h.WriteByte(byte(ev.Assert))
	if ev.Test {
		h.WriteByte(1)
	}
	return h.Sum64()
}

func (s *dedupSlot) is(ev *event.Event) bool {
	return s.assert == ev.Assert && s.test == ev.Test && s.Host == ev.Host && s.Rule == ev.Rule && s.Message == ev.Message
}

// find returns the slot of ev's key (hash h), or -1 and the empty place of the index
// where the key goes.
func (d *dedupTable) find(h uint64, ev *event.Event) (int32, int) {
	x := &d.index
	for p := x.home(h); ; p = x.next(p) {
		e := x.tab[p]
		if e == 0 {
			return -1, p
		}
		if e>>32 == h>>32 {
			i := int32(uint32(e)) - 1
			if s := d.slots.at(i); s.hash == h && s.is(ev) {
				return i, p
			}
		}
	}
}

// seen counts ev and reports whether the same message from the same host was already
// seen within the window (the window runs from the first occurrence, so a message
// repeated forever is still emitted once per window).
func (d *dedupTable) seen(ev *event.Event, when time.Time) bool {
	if d.window < 0 {
		return false
	}
	if when.After(d.sweep) {
		d.expire(when)
	}
	if d.index.full() {
		d.reindex(2 * len(d.index.tab))
	}
	h := d.hash(ev)
	i, p := d.find(h, ev)
	if i >= 0 {
		r := &d.slots.at(i).Repeat
		if when.Sub(r.First) < d.window && !when.Before(r.First) {
			r.Count++
			if when.After(r.Last) {
				r.Last = when
			}
			return true
		}
		d.retire(*r)
		*r = Repeat{Host: ev.Host, Rule: ev.Rule, Message: ev.Message, First: when, Last: when, Count: 1}
		return false
	}
	if d.live >= maxLive {
		return false
	}
	var n int32
	if k := len(d.free); k > 0 {
		n, d.free = d.free[k-1], d.free[:k-1]
	} else {
		n = d.slots.add()
	}
	*d.slots.at(n) = dedupSlot{Repeat: Repeat{Host: ev.Host, Rule: ev.Rule, Message: ev.Message, First: when, Last: when, Count: 1},
		hash: h, assert: ev.Assert, test: ev.Test, used: true}
	d.index.put(p, h, n)
	d.live++
	return false
}

// expire retires the records whose window has ended, at most once per window, so that
// memory follows the messages of one window. The index is rebuilt from the slots still
// in use rather than entries removed one by one: a sweep frees about half of them.
func (d *dedupTable) expire(now time.Time) {
	freed := false
	for i := range d.slots.len() {
		s := d.slots.at(i)
		if s.used && now.Sub(s.First) >= d.window {
			d.retire(s.Repeat)
			*s = dedupSlot{} // drops the strings, so that their lines can be collected
			d.free = append(d.free, i)
			d.live--
			freed = true
		}
	}
	// A burst's slots are given back once the window is calm again: the pages go, to
	// what the live messages need.
	if d.live == 0 && d.slots.cap() > 1024 {
		d.slots, d.free, d.index = slotPages{}, nil, newSlotIndex(minIndex)
	} else if freed {
		d.reindex(len(d.index.tab))
	}
	d.sweep = now.Add(d.window)
}

// reindex rebuilds the index with size places from the slots in use.
func (d *dedupTable) reindex(size int) {
	if size == len(d.index.tab) {
		d.index.clear()
	} else {
		d.index = newSlotIndex(size)
	}
	for i := range d.slots.len() {
		if s := d.slots.at(i); s.used {
			d.index.insert(s.hash, i)
		}
	}
}

func (d *dedupTable) retire(r Repeat) {
	if r.Count < 2 {
		return
	}
	d.retired = append(d.retired, r)
	if len(d.retired) >= 2*maxRetired {
		sortRepeats(d.retired)
		d.retired = d.retired[:maxRetired]
	}
}

func sortRepeats(rs []Repeat) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Count != rs[j].Count {
			return rs[i].Count > rs[j].Count
		}
		return rs[i].First.Before(rs[j].First)
	})
}

// Repeats lists the messages repeated within a dedup window, the most repeated first
// (at most 1000 whose window has ended, and all of the current window).
func (t *Tracker) Repeats() []Repeat {
	out := append([]Repeat(nil), t.dedup.retired...)
	for i := range t.dedup.slots.len() {
		if s := t.dedup.slots.at(i); s.used && s.Count > 1 {
			out = append(out, s.Repeat)
		}
	}
	sortRepeats(out)
	return out
}

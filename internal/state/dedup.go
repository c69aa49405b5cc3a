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
// hash of its key (host, rule, message, assert, test) in a map of integers to slots of a
// dense slice, the key's strings compared on a hit (entries of the same hash are chained):
// hashing three strings into a map keyed by them, with one allocated record per
// message, cost more than the rest of the state stage together.
type dedupTable struct {
	window time.Duration
	seed   maphash.Seed
	index  map[uint64]int32 // hash -> first slot of its chain
	slots  []dedupSlot
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
	next   int32 // next slot of the same hash, -1 at the end
}

const maxRetired = 1000

// maxLive bounds the messages of one window that the table tracks, so that a burst of
// distinct messages (a flood of a million lines in five minutes) cannot grow memory
// without bound: beyond it, messages not already tracked are passed on as new (never
// as repeats, so nothing is held back) and not remembered until the window's sweep
// frees room.
const maxLive = 200_000

func newDedupTable(window time.Duration) *dedupTable {
	return &dedupTable{window: window, seed: maphash.MakeSeed(), index: map[uint64]int32{}}
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
	h := d.hash(ev)
	head, ok := d.index[h]
	i := int32(-1)
	if ok {
		for j := head; j >= 0; j = d.slots[j].next {
			if d.slots[j].is(ev) {
				i = j
				break
			}
		}
	}
	if i >= 0 {
		r := &d.slots[i].Repeat
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
		d.slots = append(d.slots, dedupSlot{})
		n = int32(len(d.slots) - 1)
	}
	next := int32(-1)
	if ok {
		next = head
	}
	d.slots[n] = dedupSlot{Repeat: Repeat{Host: ev.Host, Rule: ev.Rule, Message: ev.Message, First: when, Last: when, Count: 1},
		hash: h, assert: ev.Assert, test: ev.Test, used: true, next: next}
	d.index[h] = n
	d.live++
	return false
}

// expire retires the records whose window has ended, at most once per window, so that
// memory follows the messages of one window.
func (d *dedupTable) expire(now time.Time) {
	for i := range d.slots {
		s := &d.slots[i]
		if s.used && now.Sub(s.First) >= d.window {
			d.retire(s.Repeat)
			d.unlink(int32(i))
		}
	}
	// A burst's slots are given back once the window is calm again: the slice shrinks
	// to what the live messages need.
	if d.live == 0 && cap(d.slots) > 1024 {
		d.slots, d.free, d.index = nil, nil, map[uint64]int32{}
	}
	d.sweep = now.Add(d.window)
}

// unlink removes slot i from its hash chain and frees it.
func (d *dedupTable) unlink(i int32) {
	s := &d.slots[i]
	head := d.index[s.hash]
	if head == i {
		if s.next >= 0 {
			d.index[s.hash] = s.next
		} else {
			delete(d.index, s.hash)
		}
	} else {
		for j := head; j >= 0; j = d.slots[j].next {
			if d.slots[j].next == i {
				d.slots[j].next = s.next
				break
			}
		}
	}
	*s = dedupSlot{next: -1} // drops the strings, so that their lines can be collected
	d.free = append(d.free, i)
	d.live--
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
	for i := range t.dedup.slots {
		if s := &t.dedup.slots[i]; s.used && s.Count > 1 {
			out = append(out, s.Repeat)
		}
	}
	sortRepeats(out)
	return out
}

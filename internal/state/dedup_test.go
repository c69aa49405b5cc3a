package state

import (
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// TestDedupBounded: a burst of more distinct messages than maxLive within one window
// keeps the table at maxLive; tracked messages are still found as repeats, the others
// pass as new, and the window's end frees the table.
func TestDedupBounded(t *testing.T) {
	d := newDedupTable(5 * time.Minute)
	when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	ev := func(i int) *event.Event {
		return &event.Event{Host: "hsm1", Rule: "r", Message: "message " + strconv.Itoa(i)}
	}
	for i := range maxLive + 1000 {
		if d.seen(ev(i), when) {
			t.Fatalf("message %d is new, reported as a repeat", i)
		}
	}
	if d.live != maxLive || d.index.n != maxLive {
		t.Fatalf("%d live messages (%d in the index), want the bound %d", d.live, d.index.n, maxLive)
	}
	if !d.seen(ev(0), when.Add(time.Second)) {
		t.Error("a tracked message again is not a repeat")
	}
	if d.seen(ev(maxLive+10), when.Add(time.Second)) {
		t.Error("an untracked message is reported as a repeat")
	}
	d.seen(ev(-1), when.Add(6*time.Minute)) // past the window: the sweep frees the table
	if d.live != 1 {
		t.Errorf("%d live messages after the window, want 1", d.live)
	}
	if got := len(d.retired); got != 1 || d.retired[0].Message != "message 0" || d.retired[0].Count != 2 {
		t.Errorf("retired %+v, want message 0 counted twice", d.retired)
	}
}

// FuzzDedupMatchesMap drives the dedup table and a plain map keyed by the message's
// fields with the same events (few hosts and messages, so that repeats are common;
// times that jump back and forth across windows, so that sweeps, re-armed windows and
// the reuse of freed slots all happen): every answer of seen, and the repeats retired
// and live at the end, must agree.
func FuzzDedupMatchesMap(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 1, 9, 200, 9, 3, 17, 250, 17, 0, 255, 129})
	f.Add([]byte("the same message from the same host, over and over, and now and then another"))
	// Thousands of events a second or two apart: each window sees repeats, expiries
	// and slots freed and taken again.
	many := make([]byte, 0, 8192)
	for i := range 4096 {
		many = append(many, byte(i*37^i>>3), byte(i%3))
	}
	f.Add(many)
	f.Fuzz(func(t *testing.T, ops []byte) {
		const window = time.Minute
		d := newDedupTable(window)
		m := newMapDedup(window)
		when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		for k := 0; k+1 < len(ops); k += 2 {
			a, b := ops[k], ops[k+1]
			// b: a step of the clock, back as well as forth, of up to two windows.
			when = when.Add(time.Duration(int8(b)) * time.Second)
			// a: the key, from a few dozen, so that most windows see repeats.
			ev := &event.Event{Host: "hsm" + strconv.Itoa(int(a&1)), Rule: "r" + strconv.Itoa(int(a>>1&1)),
				Message: "message " + strconv.Itoa(int(a>>2&3)), Assert: event.Tri(a >> 4 & 3 % 3), Test: a>>6 == 3}
			if got, want := d.seen(ev, when), m.seen(ev, when); got != want {
				t.Fatalf("op %d (%s %s %q assert %d test %v at %s): seen %v, the map says %v", k/2,
					ev.Host, ev.Rule, ev.Message, ev.Assert, ev.Test, when.Format(time.TimeOnly), got, want)
			}
		}
		tr := &Tracker{dedup: d}
		got := tr.Repeats()
		want := m.repeats()
		sortRepeatsFully(got)
		sortRepeatsFully(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("repeats\n%+v\nthe map's\n%+v", got, want)
		}
	})
}

// mapDedup is the dedup window kept the obvious way, one map entry per message.
type mapDedup struct {
	window  time.Duration
	m       map[mapDedupKey]*Repeat
	retired []Repeat
	sweep   time.Time
}

type mapDedupKey struct {
	host, rule, message string
	assert              event.Tri
	test                bool
}

func newMapDedup(window time.Duration) *mapDedup {
	return &mapDedup{window: window, m: map[mapDedupKey]*Repeat{}}
}

func (m *mapDedup) seen(ev *event.Event, when time.Time) bool {
	if when.After(m.sweep) {
		for k, r := range m.m {
			if when.Sub(r.First) >= m.window {
				m.retire(*r)
				delete(m.m, k)
			}
		}
		m.sweep = when.Add(m.window)
	}
	k := mapDedupKey{ev.Host, ev.Rule, ev.Message, ev.Assert, ev.Test}
	fresh := &Repeat{Host: ev.Host, Rule: ev.Rule, Message: ev.Message, First: when, Last: when, Count: 1}
	r := m.m[k]
	if r == nil {
		m.m[k] = fresh
		return false
	}
	if when.Sub(r.First) < m.window && !when.Before(r.First) {
		r.Count++
		if when.After(r.Last) {
			r.Last = when
		}
		return true
	}
	m.retire(*r)
	*r = *fresh
	return false
}

func (m *mapDedup) retire(r Repeat) {
	if r.Count >= 2 {
		m.retired = append(m.retired, r)
	}
}

func (m *mapDedup) repeats() []Repeat {
	out := append([]Repeat(nil), m.retired...)
	for _, r := range m.m {
		if r.Count > 1 {
			out = append(out, *r)
		}
	}
	return out
}

// sortRepeatsFully orders repeats by every field, so that two lists of the same repeats
// compare equal whatever order they were found in.
func sortRepeatsFully(rs []Repeat) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case !a.First.Equal(b.First):
			return a.First.Before(b.First)
		case a.Host != b.Host:
			return a.Host < b.Host
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		case a.Message != b.Message:
			return a.Message < b.Message
		case a.Count != b.Count:
			return a.Count < b.Count
		}
		return a.Last.Before(b.Last)
	})
}

package state

import (
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

type dedupKey struct {
	host, rule, msg string
	assert          event.Tri
	test            bool
}

type dedupTable struct {
	window  time.Duration
	live    map[dedupKey]*Repeat
	retired []Repeat // repeats whose window ended, the largest kept
	sweep   time.Time
}

const maxRetired = 1000

func newDedupTable(window time.Duration) *dedupTable {
	return &dedupTable{window: window, live: map[dedupKey]*Repeat{}}
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
	k := dedupKey{ev.Host, ev.Rule, ev.Message, ev.Assert, ev.Test}
	if r := d.live[k]; r != nil && when.Sub(r.First) < d.window && !when.Before(r.First) {
		r.Count++
		if when.After(r.Last) {
			r.Last = when
		}
		return true
	}
	if r := d.live[k]; r != nil {
		d.retire(*r)
	}
	d.live[k] = &Repeat{Host: ev.Host, Rule: ev.Rule, Message: ev.Message, First: when, Last: when, Count: 1}
	return false
}

// expire retires the records whose window has ended, at most once per window, so that
// memory follows the messages of one window.
func (d *dedupTable) expire(now time.Time) {
	for k, r := range d.live {
		if now.Sub(r.First) >= d.window {
			d.retire(*r)
			delete(d.live, k)
		}
	}
	d.sweep = now.Add(d.window)
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
	for _, r := range t.dedup.live {
		if r.Count > 1 {
			out = append(out, *r)
		}
	}
	sortRepeats(out)
	return out
}

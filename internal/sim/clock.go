package sim

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is where the simulator reads the time. Models compute every moving value from
// Now, and the fleet's run loop waits with After, so a Manual clock makes a test of a
// ten-minute scenario run in microseconds.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// After implements Clock.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Manual is a clock that moves only when told to (Set, Add). It is safe for concurrent
// use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a Manual clock showing t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now implements Clock.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// After implements Clock: the channel fires when Set or Add reach now+d.
func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := m.now.Add(d)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, manualWaiter{at: at, ch: ch})
	return ch
}

// Add moves the clock forward by d.
func (m *Manual) Add(d time.Duration) { m.Set(m.Now().Add(d)) }

// Set moves the clock to t (never backwards: an earlier t is ignored) and fires the
// waiters that are due.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Before(m.now) {
		return
	}
	m.now = t
	sort.SliceStable(m.waiters, func(i, j int) bool { return m.waiters[i].at.Before(m.waiters[j].at) })
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if !w.at.After(t) {
			w.ch <- t
			continue
		}
		kept = append(kept, w)
	}
	clear(m.waiters[len(kept):])
	m.waiters = kept
}

// Handover is a clock that replays the past, then runs on the wall clock: it shows the
// time it was last Set to until Live is called, and the wall clock's time from then on.
// The demo builds its history on it (its simulated HSMs play the last day in a few
// seconds, Fleet.Replay) and the same devices, their state and uptimes, carry on in real
// time. It is safe for concurrent use.
type Handover struct {
	m    *Manual
	live atomic.Bool
}

// NewHandover returns a Handover clock showing t.
func NewHandover(t time.Time) *Handover { return &Handover{m: NewManual(t)} }

// Now implements Clock.
func (h *Handover) Now() time.Time {
	if h.live.Load() {
		return time.Now()
	}
	return h.m.Now()
}

// After implements Clock: before Live, the channel fires when Set reaches now+d.
func (h *Handover) After(d time.Duration) <-chan time.Time {
	if h.live.Load() {
		return time.After(d)
	}
	return h.m.After(d)
}

// Set moves the replayed time forward (never backwards); it has no effect once live.
func (h *Handover) Set(t time.Time) { h.m.Set(t) }

// Live hands over to the wall clock.
func (h *Handover) Live() { h.live.Store(true) }

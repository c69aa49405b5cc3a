package state

import (
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
	if d.live != maxLive || len(d.index) != maxLive {
		t.Fatalf("%d live messages (%d in the index), want the bound %d", d.live, len(d.index), maxLive)
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

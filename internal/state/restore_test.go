package state

import (
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Alarms restored after a restart are open as before: listed, repeated by an assert (not
// opened again) and closed by their clear.
func TestRestore(t *testing.T) {
	tr, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2012, 2, 29, 10, 0, 0, 0, time.UTC)
	tr.Restore([]Alarm{
		{Host: "lunaA", Key: "r.fan", Rule: "r.fan", Level: "major", Opened: opened, LastSeen: opened, Asserts: 2},
		{Host: "lunaA", Key: "r.old", Rule: "r.old", Opened: opened, Cleared: opened.Add(time.Hour)},
	})
	if a := tr.Active(); len(a) != 1 || a[0].Key != "r.fan" {
		t.Fatalf("active %+v", a)
	}
	ev := &event.Event{Time: opened.Add(time.Minute), Host: "lunaA", Rule: "r.fan", Level: "major", Assert: event.True}
	if d := tr.Observe(ev); d.Change != Repeated || d.Alarm.Asserts != 3 {
		t.Fatalf("assert after restore: %v %+v", d.Change, d.Alarm)
	}
	ev = &event.Event{Time: opened.Add(2 * time.Minute), Host: "lunaA", Rule: "r.fan", Assert: event.False}
	if d := tr.Observe(ev); d.Change != Cleared || !d.Alarm.Opened.Equal(opened) {
		t.Fatalf("clear after restore: %v %+v", d.Change, d.Alarm)
	}
	if o, c := tr.AlarmTotals(); o != 0 || c != 1 {
		t.Fatalf("totals %d %d", o, c)
	}
}

package liveparse

import (
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// TestReferenceRenewed: a daemon started a year ago still puts a year-less timestamp
// in the current year.
func TestReferenceRenewed(t *testing.T) {
	clock := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	lp, err := New("", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	lp.now = func() time.Time { return clock }
	if err := lp.renew(clock); err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	line := "<13>Jan 10 11:00:00 hsm1 app: x"
	if !lp.Into(line, &ev) || ev.Time.Year() != 2025 {
		t.Fatalf("parsed %v: %+v", ev.Time, ev)
	}
	clock = clock.AddDate(1, 0, 0)
	if !lp.Into(line, &ev) || ev.Time.Year() != 2026 {
		t.Fatalf("a year later the line is put in %d", ev.Time.Year())
	}
	if lp.Into("not a log line", &ev) || ev.Source != event.SourceUnparsed {
		t.Fatalf("unparsed line: %+v", ev)
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("no-such-format", nil); err == nil {
		t.Fatal("unknown format accepted")
	}
}

package state

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// FuzzMatureBound drives two trackers with the same asserts and clears of a few
// flapping alarms (and now and then a clock step without an event, or a new hold-down):
// one skips the walk of the open alarms until the earliest held clear can mature, the
// other walks them at every step, as the tracker did before. They must decide alike.
func FuzzMatureBound(f *testing.F) {
	f.Add([]byte{0, 10, 1, 10, 0, 10, 1, 10, 0, 200, 1, 250, 2, 100, 3, 5, 0xff, 90})
	f.Add([]byte{0xff, 4, 0, 1, 1, 1, 0, 1, 1, 1, 0xff, 0, 0, 70})
	seq := make([]byte, 0, 2048)
	for i := range 1024 {
		seq = append(seq, byte(i*7^i>>2), byte(i*13%97))
	}
	f.Add(seq)
	f.Fuzz(func(t *testing.T, ops []byte) {
		cfg := Config{FlapCount: 2, FlapWindow: 10 * time.Minute, HoldDown: time.Minute, DedupWindow: -1, StormLimit: -1}
		bound, walk := mustTracker(t, cfg), mustTracker(t, cfg)
		when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		for k := 0; k+1 < len(ops); k += 2 {
			a, b := ops[k], ops[k+1]
			when = when.Add(time.Duration(b) * time.Second)
			walk.alarms.matureKnown = false
			switch {
			case a == 0xff: // a reload with a new hold-down, shorter or longer
				cfg.HoldDown = time.Duration(1+b%5) * time.Minute
				if err := bound.Reconfigure(cfg); err != nil {
					t.Fatal(err)
				}
				if err := walk.Reconfigure(cfg); err != nil {
					t.Fatal(err)
				}
			case a&0xc0 == 0xc0: // the clock alone (a daemon's timer)
				if got, want := bound.Advance(when), walk.Advance(when); !reflect.DeepEqual(got, want) {
					t.Fatalf("op %d: advance matured %+v, walking every step %+v", k/2, got, want)
				}
			default:
				ev := event.Event{Time: when, Host: "hsm" + strconv.Itoa(int(a>>3&1)), Source: event.SourceLunaSyslog,
					Rule: "r" + strconv.Itoa(int(a>>1&3)), Message: "m", Assert: event.TriOf(a&1 == 0)}
				e1, e2 := ev, ev
				if got, want := bound.Observe(&e1), walk.Observe(&e2); !reflect.DeepEqual(got, want) {
					t.Fatalf("op %d: %+v, walking every step %+v", k/2, got, want)
				}
			}
		}
		if got, want := bound.Active(), walk.Active(); !reflect.DeepEqual(got, want) {
			t.Fatalf("active %+v, walking every step %+v", got, want)
		}
	})
}

func mustTracker(t *testing.T, cfg Config) *Tracker {
	t.Helper()
	tr, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

package sim

import (
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// trapEvent is the event hsmwatch's trap receiver makes of a Luna trap: the
// ssLogReference read into the host, log_* fields, process, pid and the assert flag.
func trapEvent(t *testing.T, tr *Trap) event.Event {
	t.Helper()
	ev := event.Event{Time: tr.Time, Source: event.SourceSNMPTrap, Host: "127.0.0.1", Notification: tr.Name}
	ev.Fields.SetString("trap", tr.Name)
	for _, v := range tr.Vars {
		s, ok := v.Value.(string)
		if !ok {
			continue
		}
		r, ok := lunatrap.Parse(s)
		if !ok {
			t.Fatalf("trap %s: ssLogReference %q does not parse", tr.Name, s)
		}
		ev.Host = r.Host
		ev.Fields.SetString("log_host", r.Host)
		ev.Fields.SetString("log_file", r.File)
		ev.Fields.SetString("log_time", r.Time)
		ev.Fields.SetString("process", r.Process)
		ev.Fields.SetInt("pid", int64(r.PID))
		if r.Assert == event.True {
			ev.Fields.SetInt("log_assert", 1)
		} else {
			ev.Fields.SetInt("log_assert", 0)
		}
		ev.Assert = r.Assert
		ev.Message = tr.Name + " for " + s
		ev.Raw = ev.Message
		return ev
	}
	t.Fatalf("trap %s carries no ssLogReference", tr.Name)
	return ev
}

// TestFanFailureOneAlarm feeds the luna-fan-failure scenario's real log lines and traps
// (the lines as the parser reads them, the traps as the receiver reads them) to the alarm
// state, in the order the appliance sends them and with every trap ahead of its line:
// one alarm for the fan, opened once and cleared once, by events that say so.
func TestFanFailureOneAlarm(t *testing.T) {
	cat := loadCatalog(t)
	_, all := play(t, mustScenario(t, "luna-fan-failure"))
	lines := classifyAll(t, cat, all)
	type item struct {
		ev   event.Event
		trap bool
	}
	var logFirst []item
	li := 0
	for _, e := range all {
		switch {
		case e.Log != nil:
			logFirst = append(logFirst, item{ev: lines[li].ev})
			li++
		case e.Trap != nil:
			ev := trapEvent(t, e.Trap)
			if r := cat.Classify(&ev); r == nil || r.Join != classify.JoinLogReference {
				t.Fatalf("trap %s classifies to %v, want a rule that joins by log reference", e.Trap.Name, r)
			}
			logFirst = append(logFirst, item{ev: ev, trap: true})
		}
	}
	if len(logFirst) != 8 {
		t.Fatalf("%d lines and traps, want 4 of each", len(logFirst))
	}
	trapFirst := make([]item, len(logFirst))
	copy(trapFirst, logFirst)
	for i := 0; i+1 < len(trapFirst); i += 2 { // each line is followed by its trap
		if trapFirst[i].trap || !trapFirst[i+1].trap {
			t.Fatalf("events %d, %d: want a line then its trap", i, i+1)
		}
		trapFirst[i], trapFirst[i+1] = trapFirst[i+1], trapFirst[i]
	}
	for _, order := range []struct {
		name  string
		items []item
	}{{"line before trap", logFirst}, {"trap before line", trapFirst}} {
		t.Run(order.name, func(t *testing.T) {
			tr, err := state.New(state.Config{}, cat)
			if err != nil {
				t.Fatal(err)
			}
			var opened, cleared, moves int
			var openID string
			for _, it := range order.items {
				ev := it.ev
				d := tr.Observe(&ev)
				switch d.Change {
				case state.Opened:
					opened++
					openID = d.Alarm.ID
				case state.Cleared:
					cleared++
					if ev.Assert != event.False || ev.Cleared != openID || ev.Level != d.Alarm.Level || d.Alarm.Level != "critical" {
						t.Errorf("clear event: assert %v, cleared %q, level %q; want false, %q, the alarm's critical",
							ev.Assert, ev.Cleared, ev.Level, openID)
					}
					if d.Alarm.Key != "Fan1A" {
						t.Errorf("cleared alarm key %q, want Fan1A", d.Alarm.Key)
					}
					if d.Alarm.Sources[event.SourceSNMPTrap] == 0 || d.Alarm.Sources[event.SourceLunaSyslog] == 0 {
						t.Errorf("evidence by source %v: want the traps and the lines", d.Alarm.Sources)
					}
					var srcs []string
					for _, e := range d.Alarm.Evidence {
						srcs = append(srcs, e.Source)
					}
					if len(d.Alarm.Evidence) == 0 || !strings.Contains(strings.Join(srcs, " "), event.SourceSNMPTrap) {
						t.Errorf("evidence %v: want the traps listed", srcs)
					}
				}
				moves += len(d.Moved)
				for _, m := range d.Moved {
					if m.To.Key != "Fan1A" || m.From.Cleared.IsZero() || m.To.ID != openID {
						t.Errorf("move %+v -> %+v: want the trap's alarm moved to Fan1A, same id", m.From, m.To)
					}
				}
				if d.Change == state.Cleared && !d.Emit() {
					t.Error("the clear is not emitted")
				}
			}
			if wantMoves := order.name == "trap before line"; (moves > 0) != wantMoves {
				t.Errorf("%d moves: a trap's alarm moves to its line's key only when the trap comes first", moves)
			}
			if opened != 1 || cleared != 1 {
				t.Errorf("opened %d, cleared %d; want one alarm opened once and cleared once", opened, cleared)
			}
			if a := tr.Active(); len(a) != 0 {
				t.Errorf("alarms left open: %+v", a)
			}
			if o, c := tr.AlarmTotals(); o != 1 || c != 1 {
				t.Errorf("totals opened %d cleared %d, want 1 and 1", o, c)
			}
		})
	}
}

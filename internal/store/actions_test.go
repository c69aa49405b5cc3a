package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testOperatorActions: acknowledge, close by hand, silences and maintenance windows,
// each with who, when and a comment, and only within the store's site.
func (c conformance) testOperatorActions(t *testing.T) {
	ctx := context.Background()
	dsn := c.newDSN(t)
	st := openStore(t, dsn, "lab")
	other := openStore(t, dsn, "other")
	t1, t2, t3 := base, base.Add(time.Minute), base.Add(2*time.Minute)

	put(t, st, alarm("luna1", "fan3b", t1, 1), alarm("luna2", "psu", t1, 1))
	open := alarms(t, st, AlarmFilter{Open: true})
	if len(open) != 2 || open[0].Acknowledged != nil || open[0].Closed != nil {
		t.Fatalf("open alarms: %+v", open)
	}
	fan, psu := open[0], open[1]

	// Acknowledge: the alarm stays open, marked; a later assert keeps the mark.
	got, err := st.Acknowledge(ctx, fan.ID, Action{By: "alice", At: t2, Comment: "on it"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Acknowledged == nil || got.Acknowledged.By != "alice" || !got.Acknowledged.At.Equal(t2) ||
		got.Acknowledged.Comment != "on it" || !got.Cleared.IsZero() {
		t.Errorf("acknowledged alarm: %+v %+v", got, got.Acknowledged)
	}
	again := alarm("luna1", "fan3b", t1, 2)
	again.LastSeen = t3
	put(t, st, again)
	if a, err := st.Alarm(ctx, fan.ID); err != nil || a.Acknowledged == nil || a.Asserts != 2 {
		t.Errorf("after a repeat: %+v %v", a, err)
	}
	if _, err := other.Acknowledge(ctx, fan.ID, Action{By: "mallory", At: t2}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another site acknowledged our alarm: %v", err)
	}
	if _, err := st.Acknowledge(ctx, 999999, Action{By: "alice", At: t2}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alarm: %v", err)
	}

	// Close by hand: cleared by "operator", with who and why.
	closed, err := st.CloseAlarm(ctx, psu.ID, Action{By: "bob", At: t3, Comment: "PSU replaced, trap lost"})
	if err != nil {
		t.Fatal(err)
	}
	if !closed.Cleared.Equal(t3) || closed.ClearedBy != ClearedByOperator || closed.Closed == nil ||
		closed.Closed.By != "bob" || closed.Closed.Comment != "PSU replaced, trap lost" {
		t.Errorf("closed alarm: %+v %+v", closed, closed.Closed)
	}
	if _, err := st.Acknowledge(ctx, psu.ID, Action{By: "alice", At: t3}); !errors.Is(err, ErrAlarmClosed) {
		t.Errorf("acknowledging a closed alarm: %v", err)
	}
	if open := alarms(t, st, AlarmFilter{Open: true}); len(open) != 1 || open[0].ID != fan.ID {
		t.Errorf("open after the close: %+v", open)
	}
	// A later assert of the same key opens a new row.
	put(t, st, alarm("luna2", "psu", t3.Add(time.Minute), 1))
	if open := alarms(t, st, AlarmFilter{Open: true, Host: "luna2"}); len(open) != 1 || open[0].ID == psu.ID || open[0].Closed != nil {
		t.Errorf("a new assert after the close: %+v", open)
	}

	// Silences: added, listed while in force, expired early with who.
	si, err := st.AddSilence(ctx, Silence{Host: "luna*", Rule: "luna.ipmi.*", Starts: t1, Ends: t1.Add(2 * time.Hour),
		CreatedBy: "alice", CreatedAt: t1, Comment: "firmware upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	if si.ID == 0 || si.Site != "lab" {
		t.Errorf("added silence: %+v", si)
	}
	if _, err := other.AddSilence(ctx, Silence{Level: "info", Starts: t1, Ends: t1.Add(time.Hour), CreatedBy: "x", CreatedAt: t1}); err != nil {
		t.Fatal(err)
	}
	list, err := st.Silences(ctx, SilenceFilter{Site: "lab", EndsAfter: t2})
	if err != nil || len(list) != 1 || list[0].Host != "luna*" || list[0].Rule != "luna.ipmi.*" || list[0].Comment != "firmware upgrade" ||
		!list[0].Ends.Equal(t1.Add(2*time.Hour)) || list[0].CreatedBy != "alice" {
		t.Fatalf("silences: %+v %v", list, err)
	}
	ex, err := st.ExpireSilence(ctx, si.ID, Action{By: "bob", At: t3})
	if err != nil || !ex.Ends.Equal(t3) || ex.ExpiredBy != "bob" {
		t.Errorf("expired silence: %+v %v", ex, err)
	}
	if list, err := st.Silences(ctx, SilenceFilter{Site: "lab", EndsAfter: t3}); err != nil || len(list) != 0 {
		t.Errorf("an expired silence is still in force: %+v %v", list, err)
	}
	if all, err := st.Silences(ctx, SilenceFilter{}); err != nil || len(all) != 2 {
		t.Errorf("every silence of both sites: %+v %v", all, err)
	}
	if _, err := other.ExpireSilence(ctx, si.ID, Action{By: "mallory", At: t3}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another site expired our silence: %v", err)
	}

	// Maintenance windows.
	m, err := st.AddMaintenance(ctx, Maintenance{Host: "luna1", Weekdays: []string{"sat", "sun"}, Start: "22:00",
		Duration: Span(4 * time.Hour), Zone: "Europe/Paris", CreatedBy: "carol", CreatedAt: t1, Comment: "weekly backup"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.Maintenances(ctx, "lab")
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID || len(ms[0].Weekdays) != 2 || ms[0].Weekdays[1] != "sun" ||
		ms[0].Start != "22:00" || ms[0].Duration != Span(4*time.Hour) || ms[0].Zone != "Europe/Paris" || ms[0].CreatedBy != "carol" {
		t.Fatalf("maintenance windows: %+v %v", ms, err)
	}
	if err := other.DeleteMaintenance(ctx, m.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another site deleted our window: %v", err)
	}
	if err := st.DeleteMaintenance(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if ms, err := st.Maintenances(ctx, ""); err != nil || len(ms) != 0 {
		t.Errorf("after the delete: %+v %v", ms, err)
	}
}

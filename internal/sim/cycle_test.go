package sim

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCycleRepeats plays a cycle of two scenarios on a Manual clock over three periods:
// every cycle crashes and restarts NTLS and fills and frees par1, at the same offsets, and
// the device is back where it started at the end of each cycle.
func TestCycleRepeats(t *testing.T) {
	clock := NewManual(t0)
	dev := testLuna(clock)
	rec := &recorder{}
	bind(dev, rec)
	period := 15 * time.Minute
	r, err := NewCycle(dev, t0, period, Entry{Scenario: mustScenario(t, "luna-ntls-crash")},
		Entry{Scenario: mustScenario(t, "luna-token-filling"), At: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	par1 := hsmRow + "." + stringIndex("532018000012")
	start := num(t, get(t, dev, lunaTable, "hsmPartitionStorageAllocatedBytes", par1))
	total := num(t, get(t, dev, lunaTable, "hsmPartitionStorageTotalBytes", par1))
	var crashes []string
	for cycle := 0; cycle < 3; cycle++ {
		base := t0.Add(time.Duration(cycle) * period)
		// full at the end of the filling (2m + 30s + 13*30s = 9m)
		for _, at := range []time.Duration{9 * time.Minute, period - time.Second} {
			for {
				next, ok := r.Next()
				if !ok || next.After(base.Add(at)) {
					break
				}
				clock.Set(next)
				if err := r.RunUntil(t.Context(), next); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(base.Add(at))
			used := num(t, get(t, dev, lunaTable, "hsmPartitionStorageAllocatedBytes", par1))
			switch at {
			case 9 * time.Minute:
				if used != total {
					t.Errorf("cycle %d at %s: par1 uses %d of %d bytes, want full", cycle, at, used, total)
				}
			default:
				if used != start {
					t.Errorf("cycle %d at its end: par1 uses %d bytes, want %d as at start", cycle, used, start)
				}
				if got := num(t, get(t, dev, lunaTable, "ntlsOperStatus", "")); got != 1 {
					t.Errorf("cycle %d at its end: ntlsOperStatus %d, want up(1)", cycle, got)
				}
			}
		}
		if r.Cycle() != cycle+1 { // every step of this cycle ran: the next is the next cycle's
			t.Errorf("runner in cycle %d, want %d", r.Cycle(), cycle+1)
		}
	}
	for _, e := range rec.take() {
		if e.Log != nil && strings.Contains(e.Log.Message, "CRASH AND BURN") {
			crashes = append(crashes, e.Log.Time.Sub(t0).String())
		}
	}
	if got, want := fmt.Sprint(crashes), "[30s 15m30s 30m30s]"; got != want {
		t.Errorf("NTLS crashes at %s, want %s", got, want)
	}
	if r.Done() {
		t.Error("a cycling runner says it is done")
	}
}

// TestCycleChecks refuses a scenario that does not end within its cycle.
func TestCycleChecks(t *testing.T) {
	dev := testLuna(NewManual(t0))
	if _, err := NewCycle(dev, t0, time.Minute, Entry{Scenario: mustScenario(t, "luna-ntls-crash")}); err == nil ||
		!strings.Contains(err.Error(), "past its period") {
		t.Errorf("a 1m30s scenario in a 1m cycle: %v", err)
	}
	if _, err := NewCycle(dev, t0, 10*time.Minute, Entry{Scenario: mustScenario(t, "dinamo-key-export")}); err == nil {
		t.Error("a Dinamo scenario on a Luna HSM was accepted")
	}
}

// TestReplayHandover replays a day of a fleet on a Handover clock without sending
// anything, with a poll callback every 10 minutes, then goes live: the devices' clocks
// are the wall clock's and the cycles go on where the replay left them.
func TestReplayHandover(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	origin := now.Add(-24*time.Hour - 20*time.Second)
	clock := NewHandover(origin)
	cfg := &FleetConfig{Seed: 3, HSMs: []HSMConfig{{Vendor: VendorDinamo, Addr: "127.0.0.1:0", Cycle: Duration(30 * time.Minute),
		Schedule: []ScheduleEntry{{Scenario: "dinamo-key-export"}, {Scenario: "dinamo-battery-replaced", At: Duration(10 * time.Minute)}}}}}
	var live []Emitted
	f, err := NewFleet(cfg, FleetOptions{Clock: clock, Observe: func(e Emitted) { live = append(live, e) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := f.Start(ctx, origin); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var replayed []Emitted
	var polls []time.Time
	err = f.Replay(ctx, clock, now, 10*time.Minute, func(e Emitted) { replayed = append(replayed, e) },
		func(_ context.Context, at time.Time) error { polls = append(polls, at); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Errorf("%d emissions reached the outputs during the replay", len(live))
	}
	var exports []time.Time
	var prev time.Time
	for _, e := range replayed {
		var at time.Time
		switch {
		case e.Log != nil:
			at = e.Log.Time
		case e.Trap != nil:
			at = e.Trap.Time
			if e.Trap.Name == "privateKeyExported" {
				exports = append(exports, at)
			}
		}
		if at.Before(prev) {
			t.Fatalf("emissions out of order: %s after %s", at, prev)
		}
		prev = at
	}
	if len(exports) != 48 || !exports[0].Equal(origin.Add(90*time.Second)) || !exports[47].Equal(origin.Add(47*30*time.Minute+90*time.Second)) {
		t.Errorf("%d exports, first %s last %s; want 48, one per cycle from %s", len(exports), exports[0], exports[len(exports)-1], origin.Add(90*time.Second))
	}
	if len(polls) != 145 || !polls[0].Equal(origin) {
		t.Errorf("%d polls from %v, want 145 from %s", len(polls), polls[:1], origin)
	}
	if !clock.Now().Equal(now) {
		t.Errorf("clock at %s after the replay, want %s", clock.Now(), now)
	}
	clock.Live()
	if d := time.Since(clock.Now()); d < 0 || d > time.Minute {
		t.Errorf("live clock off the wall clock by %s", d)
	}
	if next, ok := f.Members()[0].runner.Next(); !ok || !next.Equal(origin.Add(48*30*time.Minute+30*time.Second)) {
		t.Errorf("next step at %s, want the 49th cycle's first at %s", next, origin.Add(48*30*time.Minute+30*time.Second))
	}
}

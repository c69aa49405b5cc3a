package state

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// feeder parses and classifies real log lines with the shipped catalog, then sets the
// event time the test wants, so that windows are exercised without waiting.
type feeder struct {
	t   *testing.T
	cat *classify.Catalog
	p   parse.Parser
	tr  *Tracker
	n   int
}

func newFeeder(t *testing.T, cfg Config) *feeder {
	t.Helper()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: t0})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(cfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	return &feeder{t: t, cat: cat, p: p, tr: tr}
}

func (f *feeder) event(line string, at time.Time) *event.Event {
	f.t.Helper()
	var ev event.Event
	parse.Into(f.p, line, &ev)
	if ev.Source == event.SourceUnparsed {
		f.t.Fatalf("test line does not parse: %q: %s", line, ev.Reason)
	}
	f.cat.Classify(&ev)
	f.n++
	ev.Input = "test.log:" + strconv.Itoa(f.n)
	if !at.IsZero() {
		ev.Time = at
	}
	return &ev
}

func (f *feeder) feed(line string, at time.Time) Decision {
	f.t.Helper()
	return f.tr.Observe(f.event(line, at))
}

const (
	psuFail  = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted"
	psuOK    = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted"
	fanLow   = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)"
	fanLowNR = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Non-recoverable going low (Reading 500 < Threshold 1000 RPM)"
	fanBack  = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 2400 > Threshold 2000 RPM)"
	almHot   = "2026 Nov 22 10:00:00 myLuna kern info kernel: k7pf0: [HSM] ALM2001: High temperature warning activated"
	almHot13 = "2026 Nov 22 10:00:00 myLuna kern info kernel: k7pf0: ALM0013: High Temperature - 82C"
	almCool  = "2026 Nov 22 10:00:00 myLuna kern info kernel: k7pf0: [HSM] ALM2002: High temperature warning deactivated"
	selUsed  = "2026 Nov 22 10:00:00 myLuna local4 warning ipmiev: SEL buffer used at 85%, please consider clearing the SEL buffer"
	selOver  = "2026 Nov 22 10:00:00 myLuna local4 alert ipmiev: SEL buffer overflow, no SEL message can be logged until the SEL buffer is cleared"
	selClear = "2026 Nov 22 10:00:00 myLuna local4 notice ipmievd: SEL overflow is cleared"
	lunash   = "2026 Nov 22 10:00:00 myLuna local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719"
)

func TestAssertOpensClearCloses(t *testing.T) {
	f := newFeeder(t, Config{})
	d := f.feed(psuFail, t0)
	if d.Change != Opened || d.Alarm == nil || d.Alarm.Key != "PSU2_Status" || d.Alarm.Host != "myLuna" {
		t.Fatalf("assert: %+v %+v", d, d.Alarm)
	}
	if d.Alarm.Notification != "powerSupplyAttentionNotify" {
		t.Errorf("notification %q", d.Alarm.Notification)
	}
	if got := f.tr.Active(); len(got) != 1 || !got[0].Opened.Equal(t0) {
		t.Fatalf("active after assert: %+v", got)
	}
	d = f.feed(psuFail, t0.Add(10*time.Minute))
	if d.Change != Repeated || d.Alarm.Asserts != 2 || !d.Alarm.Opened.Equal(t0) {
		t.Fatalf("second assert: %v %+v", d.Change, d.Alarm)
	}
	d = f.feed(psuOK, t0.Add(20*time.Minute))
	if d.Change != Cleared || d.Alarm.Cleared != t0.Add(20*time.Minute) || !d.Emit() {
		t.Fatalf("clear: %v %+v", d.Change, d.Alarm)
	}
	if got := f.tr.Active(); len(got) != 0 {
		t.Fatalf("active after clear: %+v", got)
	}
	if d := f.feed(psuOK, t0.Add(30*time.Minute)); d.Change != Unmatched {
		t.Errorf("clear with nothing open: %v", d.Change)
	}
	if o, c := f.tr.AlarmTotals(); o != 1 || c != 1 {
		t.Errorf("totals opened %d cleared %d", o, c)
	}
}

// A sensor's thresholds share one key: going further down raises the level of the
// same alarm, and the reading coming back above the threshold clears it.
func TestThresholdAlarmSharesSensorKey(t *testing.T) {
	f := newFeeder(t, Config{})
	a := f.feed(fanLow, t0)
	b := f.feed(fanLowNR, t0.Add(time.Minute))
	if a.Change != Opened || b.Change != Repeated || b.Alarm.Key != "Fan3B" {
		t.Fatalf("fan: %v %v %+v", a.Change, b.Change, b.Alarm)
	}
	if event.LevelRank(b.Alarm.Level) < event.LevelRank(a.Alarm.Level) {
		t.Errorf("level fell from %s to %s", a.Alarm.Level, b.Alarm.Level)
	}
	if b.Alarm.Rule != a.Alarm.Rule {
		t.Errorf("alarm changed rule from %s to %s", a.Alarm.Rule, b.Alarm.Rule)
	}
	c := f.feed(fanBack, t0.Add(2*time.Minute))
	if c.Change != Cleared || c.Alarm.Key != "Fan3B" {
		t.Fatalf("fan back: %v %+v", c.Change, c.Alarm)
	}
}

// ALM 0013 and 2001 assert and 2002 clears one alarm per device (the Luna PCIe HSM alarm code list).
func TestALMPairSharesKey(t *testing.T) {
	f := newFeeder(t, Config{})
	if d := f.feed(almHot13, t0); d.Change != Opened || d.Alarm.Key != "k7pf0/high-temperature" {
		t.Fatalf("ALM0013: %v %+v", d.Change, d.Alarm)
	}
	if d := f.feed(almHot, t0.Add(time.Minute)); d.Change != Repeated {
		t.Fatalf("ALM2001: %v", d.Change)
	}
	if d := f.feed(almCool, t0.Add(2*time.Minute)); d.Change != Cleared {
		t.Fatalf("ALM2002: %v", d.Change)
	}
	if got := f.tr.Active(); len(got) != 0 {
		t.Fatalf("still active: %+v", got)
	}
}

// "SEL overflow is cleared" names in its clears list the rules it closes, one of them
// under another key.
func TestClearsList(t *testing.T) {
	f := newFeeder(t, Config{})
	f.feed(selUsed, t0)
	f.feed(selOver, t0.Add(time.Minute))
	if got := f.tr.Active(); len(got) != 2 {
		t.Fatalf("want 2 open SEL alarms, got %+v", got)
	}
	d := f.feed(selClear, t0.Add(2*time.Minute))
	if d.Change != Cleared || len(d.AlsoCleared)+1 != 2 {
		t.Fatalf("clear: %v %+v also %+v", d.Change, d.Alarm, d.AlsoCleared)
	}
	if got := f.tr.Active(); len(got) != 0 {
		t.Fatalf("still active: %+v", got)
	}
}

func TestStale(t *testing.T) {
	f := newFeeder(t, Config{StaleAfter: 24 * time.Hour})
	f.feed(psuFail, t0)
	f.feed(almHot, t0.Add(12*time.Hour))
	if got := f.tr.Stale(t0.Add(24*time.Hour - time.Second)); len(got) != 0 {
		t.Fatalf("stale too early: %+v", got)
	}
	got := f.tr.Stale(t0.Add(24 * time.Hour))
	if len(got) != 1 || got[0].Key != "PSU2_Status" {
		t.Fatalf("stale at 24h: %+v", got)
	}
	if got := f.tr.Stale(t0.Add(36 * time.Hour)); len(got) != 2 {
		t.Fatalf("stale at 36h: %+v", got)
	}
}

func TestFlapHoldDown(t *testing.T) {
	f := newFeeder(t, Config{FlapCount: 4, FlapWindow: 10 * time.Minute, HoldDown: 5 * time.Minute})
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	steps := []struct {
		line string
		at   time.Time
		want Change
	}{
		{psuFail, m(0), Opened},
		{psuOK, m(1), Cleared},
		{psuFail, m(2), Opened},
		{psuOK, m(3), ClearHeld}, // fourth change within 10 minutes: flapping
		{psuFail, m(4), Repeated},
		{psuOK, m(5), ClearHeld},
	}
	for i, s := range steps {
		d := f.feed(s.line, s.at)
		if d.Change != s.want {
			t.Fatalf("step %d: got %v want %v", i, d.Change, s.want)
		}
		if s.want == ClearHeld && (d.Emit() || !d.Alarm.Flapping) {
			t.Fatalf("step %d: a held clear must not be emitted and must flap: %+v", i, d.Alarm)
		}
	}
	if got := f.tr.Active(); len(got) != 1 || !got[0].Flapping {
		t.Fatalf("held alarm must stay active: %+v", got)
	}
	if got := f.tr.Advance(m(9)); len(got) != 0 {
		t.Fatalf("matured before hold-down: %+v", got)
	}
	got := f.tr.Advance(m(10))
	if len(got) != 1 || !got[0].Cleared.Equal(m(5)) {
		t.Fatalf("matured at hold-down: %+v", got)
	}
	if got := f.tr.Active(); len(got) != 0 {
		t.Fatalf("active after maturing: %+v", got)
	}
}

func TestFlapDisabled(t *testing.T) {
	f := newFeeder(t, Config{FlapCount: -1})
	for i := 0; i < 10; i++ {
		line, want := psuFail, Opened
		if i%2 == 1 {
			line, want = psuOK, Cleared
		}
		if d := f.feed(line, t0.Add(time.Duration(i)*time.Second)); d.Change != want {
			t.Fatalf("step %d: %v", i, d.Change)
		}
	}
}

func TestDuplicatesCounted(t *testing.T) {
	f := newFeeder(t, Config{DedupWindow: 5 * time.Minute})
	for i, want := range []bool{false, true, true} {
		d := f.feed(lunash, t0.Add(time.Duration(i)*time.Minute))
		if d.Duplicate != want || d.Emit() == want {
			t.Fatalf("occurrence %d: duplicate %v emit %v", i, d.Duplicate, d.Emit())
		}
	}
	reps := f.tr.Repeats()
	if len(reps) != 1 || reps[0].Count != 3 || !reps[0].First.Equal(t0) || !reps[0].Last.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("repeats: %+v", reps)
	}
	if d := f.feed(lunash, t0.Add(6*time.Minute)); d.Duplicate {
		t.Fatal("a new window must emit the message again")
	}
	reps = f.tr.Repeats()
	if len(reps) != 1 || reps[0].Count != 3 {
		t.Fatalf("retired repeat kept: %+v", reps)
	}
	if d := f.feed(strings.Replace(lunash, "myLuna", "otherLuna", 1), t0.Add(6*time.Minute)); d.Duplicate {
		t.Fatal("the same message from another host is not a duplicate")
	}
}

func TestStormLimitPerHost(t *testing.T) {
	f := newFeeder(t, Config{StormLimit: 3, StormWindow: time.Minute, DedupWindow: -1})
	var stormed int
	for i := 0; i < 5; i++ {
		if f.feed(lunash, t0.Add(time.Duration(i)*time.Second)).Storm {
			stormed++
		}
	}
	if stormed != 2 {
		t.Fatalf("stormed %d of 5 with a limit of 3", stormed)
	}
	if d := f.feed(strings.Replace(lunash, "myLuna", "quiet", 1), t0.Add(5*time.Second)); d.Storm {
		t.Fatal("another host must not be limited")
	}
	// An alarm opened before the storm and cleared inside it: the clear still passes.
	f2 := newFeeder(t, Config{StormLimit: 2, StormWindow: time.Minute, DedupWindow: -1})
	f2.feed(psuFail, t0)
	f2.feed(lunash, t0.Add(time.Second))
	f2.feed(lunash, t0.Add(2*time.Second))
	if d := f2.feed(psuOK, t0.Add(3*time.Second)); d.Change != Cleared || d.Storm || !d.Emit() {
		t.Fatalf("clear in a storm: %+v", d)
	}
	// A calm window ends the storm and it is reported.
	f.feed(lunash, t0.Add(2*time.Minute))
	f.feed(lunash, t0.Add(4*time.Minute))
	storms := f.tr.Storms()
	if len(storms) != 1 || storms[0].Host != "myLuna" || storms[0].Suppressed != 2 {
		t.Fatalf("storms: %+v", storms)
	}
}

func TestIgnoreList(t *testing.T) {
	f := newFeeder(t, Config{Ignore: []Ignore{{Rule: "luna.ipmi.*", Host: "MYLUNA", Reason: "lab unit"}}})
	d := f.feed(psuFail, t0)
	if !d.Ignored || d.IgnoreReason != "lab unit" || d.Emit() || d.Change != NoChange {
		t.Fatalf("ignored event: %+v", d)
	}
	if len(f.tr.Active()) != 0 {
		t.Fatal("an ignored assert opened an alarm")
	}
	if d := f.feed(strings.Replace(psuFail, "myLuna", "prodLuna", 1), t0); d.Ignored || d.Change != Opened {
		t.Fatalf("other host: %+v", d)
	}
	if got := f.tr.Ignored(); got[0] != 1 {
		t.Fatalf("ignored counts: %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Ignore: []Ignore{{Reason: "x"}}}, "ignore[0]: give at least one"},
		{Config{Ignore: []Ignore{{Rule: "["}}}, `ignore[0]: bad glob "["`},
		{Config{FlapCount: 1}, "flap_count"},
	} {
		_, err := New(c.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestCountsBySignificance(t *testing.T) {
	f := newFeeder(t, Config{})
	f.feed(lunash, t0)
	f.feed(lunash, t0.Add(time.Hour))
	f.feed(psuFail, t0.Add(2*time.Hour))
	cs := f.tr.Counts()
	if len(cs) != 2 || cs[0].Count != 2 || cs[0].Significant || !cs[1].Significant {
		t.Fatalf("counts: %+v", cs)
	}
	if !cs[0].Last.Equal(t0.Add(time.Hour)) {
		t.Errorf("last: %v", cs[0].Last)
	}
}

// A trap test (lsta's ***TEST lines) must neither open nor close a hardware alarm.
func TestTrapTestChangesNothing(t *testing.T) {
	f := newFeeder(t, Config{})
	test := strings.Replace(psuFail, "ipmievd: ", "ipmievd[1234]: ***TEST : ", 1)
	ev := f.event(test, t0)
	if !ev.Test {
		t.Fatalf("line not marked as a test: %q", test)
	}
	if d := f.tr.Observe(ev); d.Change != NoChange {
		t.Fatalf("test assert: %v", d.Change)
	}
	f.feed(psuFail, t0.Add(time.Minute))
	if d := f.tr.Observe(f.event(strings.Replace(psuOK, "ipmievd: ", "ipmievd[1234]: ***TEST : ", 1), t0.Add(2*time.Minute))); d.Change != NoChange {
		t.Fatalf("test clear: %v", d.Change)
	}
	if len(f.tr.Active()) != 1 {
		t.Fatal("a test clear closed a real alarm")
	}
}

// A reload's new settings apply to the next events and keep what the tracker knew: the
// open alarm stays open, and the repeat window and hold-down are the new ones.
func TestReconfigureKeepsState(t *testing.T) {
	f := newFeeder(t, Config{DedupWindow: 5 * time.Minute, FlapCount: -1})
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	if d := f.feed(psuFail, m(0)); d.Change != Opened {
		t.Fatalf("assert: %v", d.Change)
	}
	if d := f.feed(lunash, m(0)); d.Duplicate {
		t.Fatal("first lunash line counted as a repeat")
	}
	if err := f.tr.Reconfigure(Config{FlapCount: 1}); err == nil {
		t.Fatal("flap_count 1 accepted")
	}
	if err := f.tr.Reconfigure(Config{DedupWindow: -1, FlapCount: 2, FlapWindow: time.Hour, HoldDown: 3 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.tr.Active(); len(got) != 1 {
		t.Fatalf("open alarm lost by the reload: %+v", got)
	}
	if d := f.feed(lunash, m(1)); d.Duplicate {
		t.Fatal("repeat window still applies after it was turned off")
	}
	// Flap detection was off before: the history starts at the reload. Two changes
	// within the hour now make the alarm flap, and its next clear is held.
	for i, want := range []Change{Cleared, Opened, ClearHeld} {
		line := psuOK
		if want == Opened {
			line = psuFail
		}
		if d := f.feed(line, m(2+i)); d.Change != want {
			t.Fatalf("change %d after the reload: %v, want %v", i, d.Change, want)
		}
	}
	if got := f.tr.Advance(m(6)); len(got) != 0 {
		t.Fatalf("matured before the new hold-down: %+v", got)
	}
	if got := f.tr.Advance(m(7)); len(got) != 1 {
		t.Fatalf("held clear did not mature after the new 3-minute hold-down: %+v", got)
	}
}

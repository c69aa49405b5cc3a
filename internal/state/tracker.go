package state

import (
	"slices"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Tracker holds the state. It is not safe for concurrent use: one pipeline stage owns it.
type Tracker struct {
	cfg Config
	now time.Time // the latest event time seen

	alarms  *alarmTable
	dedup   *dedupTable
	storms  *stormTable
	dinamo  *dinamoTracker
	counts  map[countKey]*Count
	ignored map[int]int64 // by index into cfg.Ignore
}

// New returns a tracker for events classified with rules (nil: every alarm key is the
// rule id); cfg is checked with Validate.
func New(cfg Config, rules Rules) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Tracker{
		cfg:     cfg,
		alarms:  newAlarmTable(cfg, rules),
		dedup:   newDedupTable(cfg.DedupWindow),
		storms:  newStormTable(cfg.StormLimit, cfg.StormWindow),
		dinamo:  newDinamoTracker(cfg.MaxSessions, cfg.MaxFindings),
		counts:  map[countKey]*Count{},
		ignored: map[int]int64{},
	}, nil
}

// Change is what an event did to an alarm.
type Change uint8

// The changes, in the words the report and the sinks use.
const (
	NoChange  Change = iota // the event asserts or clears nothing
	Opened                  // an assert opened an alarm
	Repeated                // an assert of an alarm already open
	Cleared                 // a clear closed an open alarm
	ClearHeld               // a clear of a flapping alarm, held for the hold-down time
	Unmatched               // a clear with no open alarm to close
)

var changeNames = [...]string{"", "opened", "repeated", "cleared", "clear-held", "unmatched-clear"}

func (c Change) String() string { return changeNames[c] }

// Decision is what the tracker made of one event.
type Decision struct {
	Change Change
	// Alarm is a copy of the alarm the event touched (nil for NoChange and Unmatched).
	Alarm *Alarm
	// AlsoCleared lists further alarms the event's rule clears (its "clears" list).
	AlsoCleared []Alarm
	// Matured lists held clears whose hold-down ended before this event: they are now
	// cleared (a sink reports them as such).
	Matured []Alarm
	// Moved lists alarms that changed host or key: a trap's alarm taken over by the log
	// line the trap names, or the alarms of an HSM renamed from its address to its
	// sysName (a rename event, RenameEvent).
	Moved []Move
	// Ignored: an ignore entry matched (IgnoreReason says which); Duplicate: the same
	// message from the same host was seen within the dedup window; Storm: the host is
	// over its storm limit.
	Ignored      bool
	IgnoreReason string
	Duplicate    bool
	Storm        bool
	// Silenced: an operator's silence or a maintenance window covers the event
	// (MutedBy says which); Acknowledged: the event repeats an alarm an operator
	// acknowledged. The tracker never sets them: the pipeline marks them after Observe
	// (internal/pipeline, Config.Mark). The store keeps such events; the sinks' queues
	// (internal/sink) hand on neither a silenced event nor the repeat of an acknowledged
	// alarm, except to sinks that keep alarm state themselves.
	Silenced     bool
	MutedBy      string
	Acknowledged bool
}

// Emit reports whether sinks should act on the event: not ignored, not a repeat within
// the dedup window, not held back by a storm. Clears are always emitted (an alarm must
// never stay open downstream because its clear came during a flood).
func (d Decision) Emit() bool {
	if d.Ignored {
		return false
	}
	if d.Change == Cleared {
		return true
	}
	return !d.Duplicate && !d.Storm && d.Change != ClearHeld
}

// Observe feeds one classified event to the tracker.
func (t *Tracker) Observe(ev *event.Event) Decision {
	var d Decision
	when := ev.Time
	if when.IsZero() {
		when = t.now // a line without a time (a bare ALM line) happens "now"
	}
	if when.After(t.now) {
		t.now = when
		d.Matured = t.alarms.mature(t.now)
	}
	if ev.Source == event.SourceDinamoLog {
		t.dinamo.observe(ev, when)
	}
	if i, ok := t.ignoredBy(ev); ok {
		t.ignored[i]++
		d.Ignored, d.IgnoreReason = true, t.cfg.Ignore[i].reason()
		return d
	}
	if from := ev.Fields.Text(FieldRenamedFrom); from != "" && ev.Source == event.SourceSelf {
		d.Moved = t.alarms.rename(from, ev.Host, when)
		return d
	}
	t.count(ev, when)
	o := t.alarms.observe(ev, when)
	d.Change, d.Alarm, d.AlsoCleared, d.Moved = o.change, o.alarm, o.also, o.moved
	if d.Change == Cleared && d.Alarm != nil {
		markCleared(ev, d.Alarm, d.AlsoCleared)
	}
	d.Duplicate = t.dedup.seen(ev, when)
	if d.Change != Cleared {
		d.Storm = t.storms.over(ev.Host, when)
	}
	return d
}

// Advance moves the clock to now without an event (a daemon's timer) and returns the
// held clears that matured.
func (t *Tracker) Advance(now time.Time) []Alarm {
	if !now.After(t.now) {
		return nil
	}
	t.now = now
	return t.alarms.mature(now)
}

// Now is the tracker's clock: the latest event time seen, or the last Advance.
func (t *Tracker) Now() time.Time { return t.now }

func (t *Tracker) ignoredBy(ev *event.Event) (int, bool) {
	for i, ig := range t.cfg.Ignore {
		if ig.matches(ev) {
			return i, true
		}
	}
	return 0, false
}

func (ig Ignore) reason() string {
	if ig.Reason != "" {
		return ig.Reason
	}
	return "ignore list"
}

// Reconfigure applies new settings (a configuration reload) and keeps what the tracker
// knows: open alarms, their flap history, repeats, storms, Dinamo counters and sessions.
// The new windows and limits apply from the next event. The ignore counts restart when
// the ignore list changes, because they are kept by position in the list. Like every
// method, it must be called from the goroutine that owns the tracker.
func (t *Tracker) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	if !slices.Equal(cfg.Ignore, t.cfg.Ignore) {
		t.ignored = map[int]int64{}
	}
	t.cfg = cfg
	t.alarms.cfg = cfg
	t.alarms.matureKnown = false // the hold-down may have changed
	t.dedup.window = cfg.DedupWindow
	t.storms.limit, t.storms.window = cfg.StormLimit, cfg.StormWindow
	t.dinamo.maxSessions, t.dinamo.maxFindings = cfg.MaxSessions, cfg.MaxFindings
	return nil
}

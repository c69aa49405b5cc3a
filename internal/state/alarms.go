package state

import (
	"sort"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Rules finds a rule by id: the catalog the events were classified with. The tracker
// reads each rule's alarm key template and the rules it clears.
type Rules interface {
	Rule(id string) (*classify.Rule, bool)
}

// Alarm is one open (or recently closed) alarm: a host and a key, opened by an assert.
type Alarm struct {
	// ID names the alarm from its opening to its clear: the host and key it opened
	// under, joined by "/". It stays when the alarm moves (a trap's alarm joined by its
	// log line, an HSM whose address became its sysName); the event that clears the
	// alarm carries it as "cleared".
	ID           string    `json:"id"`
	Host         string    `json:"host"`
	Key          string    `json:"key"`
	Rule         string    `json:"rule"`
	Title        string    `json:"title"`
	Component    string    `json:"component"`
	Level        string    `json:"level"`
	Notification string    `json:"notification,omitempty"`
	Message      string    `json:"message"` // of the latest assert
	Input        string    `json:"input,omitempty"`
	Opened       time.Time `json:"opened"`
	LastSeen     time.Time `json:"last_seen"`
	Asserts      int64     `json:"asserts"` // asserts seen while open, the first included
	Flapping     bool      `json:"flapping,omitempty"`
	// ClearHeld is when a clear of this flapping alarm arrived; it closes when the
	// hold-down passes without a new assert.
	ClearHeld time.Time `json:"clear_held,omitzero"`
	Cleared   time.Time `json:"cleared,omitzero"`
	ClearedBy string    `json:"cleared_by,omitempty"` // the rule of the clearing event
	// Evidence lists the events that made the alarm what it is (the first ones and the
	// latest, at most maxEvidence); Sources counts all of them by source.
	Evidence []Evidence       `json:"evidence,omitempty"`
	Sources  map[string]int64 `json:"sources,omitempty"`
}

// Evidence is one event an alarm was opened, repeated, joined or cleared by.
type Evidence struct {
	Source string    `json:"source"`
	Rule   string    `json:"rule,omitempty"`
	Time   time.Time `json:"time"`
	Input  string    `json:"input,omitempty"`
	Assert bool      `json:"assert"`
}

// Move is an alarm that changed host or key (joined by its log line, or its HSM's
// address renamed to its sysName): From is the old identity, closed (Cleared set,
// ClearedBy "moved to HOST/KEY"), To the alarm as it is now. Sinks that key alarms by
// host and key close From and keep To.
type Move struct {
	From, To Alarm
}

type alarmID struct{ host, key string }

type alarmTable struct {
	cfg     Config
	rules   Rules
	open    map[string]map[string]*Alarm // host -> key -> alarm
	flips   map[alarmID][]time.Time      // recent state changes, for flap detection
	held    int                          // open alarms with a held clear
	sweepAt int                          // size of flips that triggers pruning
	opened  int64
	cleared int64

	refs     map[logRef]refEntry // log lines read with an alarm key, for traps that name them
	pending  map[logRef]refEntry // traps read before their line: the alarm they touched
	refSweep int

	// No held clear matures before matureAt, when matureKnown: mature walks the open
	// alarms only from then on, not at every step of the clock while a clear is held.
	// An earlier bound than the truth (a held alarm re-asserted or closed) only costs
	// one walk, which sets it right.
	matureAt    time.Time
	matureKnown bool
}

func newAlarmTable(cfg Config, rules Rules) *alarmTable {
	return &alarmTable{cfg: cfg, rules: rules, open: map[string]map[string]*Alarm{},
		flips: map[alarmID][]time.Time{}, sweepAt: 1024,
		refs: map[logRef]refEntry{}, pending: map[logRef]refEntry{}, refSweep: 1024}
}

// outcome is what one event did to the alarm table.
type outcome struct {
	change Change
	alarm  *Alarm
	also   []Alarm
	moved  []Move
}

// observe applies one event: an assert opens or repeats its alarm, a clear closes it,
// and a rule's "clears" list closes the alarms of those rules on the same host. A trap
// whose rule joins by log reference acts on the alarm of the line it names; a line
// takes over the alarm a trap naming it opened before it was read.
func (t *alarmTable) observe(ev *event.Event, when time.Time) outcome {
	if ev.Test {
		return outcome{} // a trap test (***TEST) says nothing about the hardware
	}
	var r *classify.Rule
	if t.rules != nil && ev.Rule != "" {
		r, _ = t.rules.Rule(ev.Rule)
	}
	var extra []Alarm
	if r != nil && len(r.Clears) > 0 && ev.Assert != event.True {
		extra = t.clearRules(ev.Host, r.Clears, ev, when)
	}
	if ev.Assert == event.Unset {
		if len(extra) > 0 {
			first := extra[0]
			return outcome{change: Cleared, alarm: &first, also: extra[1:]}
		}
		return outcome{}
	}
	key := alarmKey(r, ev)
	if r != nil && r.Join == classify.JoinLogReference {
		if ref, ok := trapRef(ev); ok {
			o := t.joinTrap(ev, ref, key, when)
			o.also = append(o.also, extra...)
			return o
		}
	}
	var moved []Move
	if ref, ok := lineRef(ev); ok {
		moved = t.lineRead(ev.Host, ref, key, when)
	}
	if ev.Assert == event.True {
		c, a := t.assert(ev, key, when)
		return outcome{change: c, alarm: a, also: extra, moved: moved}
	}
	c, a := t.clear(ev.Host, key, ev, when)
	if c == Unmatched && len(extra) > 0 {
		first := extra[0]
		return outcome{change: Cleared, alarm: &first, also: extra[1:], moved: moved}
	}
	return outcome{change: c, alarm: a, also: extra, moved: moved}
}

func alarmKey(r *classify.Rule, ev *event.Event) string {
	switch {
	case r != nil:
		return r.AlarmKey(ev)
	case ev.Rule != "":
		return ev.Rule
	case ev.Notification != "":
		return ev.Notification
	}
	return ev.Component
}

func (t *alarmTable) assert(ev *event.Event, key string, when time.Time) (Change, *Alarm) {
	host := t.open[ev.Host]
	if host == nil {
		host = map[string]*Alarm{}
		t.open[ev.Host] = host
	}
	a := host[key]
	if a == nil {
		a = &Alarm{ID: ev.Host + "/" + key, Host: ev.Host, Key: key, Rule: ev.Rule, Title: ev.Title, Component: ev.Component,
			Level: ev.Level, Notification: ev.Notification, Input: ev.Input, Opened: when}
		host[key] = a
		t.opened++
		a.Flapping = t.flip(alarmID{ev.Host, key}, when)
	} else if !a.ClearHeld.IsZero() {
		// The alarm came back during its hold-down: it never really cleared.
		a.ClearHeld = time.Time{}
		t.held--
		a.Flapping = t.flip(alarmID{ev.Host, key}, when) || a.Flapping
	}
	a.Asserts++
	a.addEvidence(ev, when)
	a.Message = ev.Message
	if when.After(a.LastSeen) {
		a.LastSeen = when
	}
	if event.LevelRank(ev.Level) > event.LevelRank(a.Level) {
		a.Level = ev.Level // the alarm keeps the rule that opened it; only its level rises
	}
	cp := a.snapshot()
	if a.Asserts == 1 {
		return Opened, &cp
	}
	return Repeated, &cp
}

func (t *alarmTable) clear(hostName, key string, ev *event.Event, when time.Time) (Change, *Alarm) {
	a := t.open[hostName][key]
	if a == nil {
		return Unmatched, nil
	}
	by := ev.Rule
	a.addEvidence(ev, when)
	if !a.ClearHeld.IsZero() {
		cp := a.snapshot()
		return ClearHeld, &cp // a second clear while held changes nothing
	}
	a.Flapping = t.flip(alarmID{hostName, key}, when) || a.Flapping
	if a.Flapping && t.cfg.HoldDown > 0 {
		a.ClearHeld, a.ClearedBy = when, by
		t.held++
		t.heldUntil(when.Add(t.cfg.HoldDown))
		cp := a.snapshot()
		return ClearHeld, &cp
	}
	return Cleared, t.close(a, when, by)
}

func (t *alarmTable) clearRules(hostName string, ids []string, ev *event.Event, when time.Time) []Alarm {
	var out []Alarm
	for _, a := range t.open[hostName] {
		for _, id := range ids {
			if a.Rule == id {
				a.addEvidence(ev, when)
				out = append(out, *t.close(a, when, ev.Rule))
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (t *alarmTable) close(a *Alarm, when time.Time, by string) *Alarm {
	if !a.ClearHeld.IsZero() {
		t.held--
	}
	a.Cleared, a.ClearedBy = when, by
	delete(t.open[a.Host], a.Key)
	if len(t.open[a.Host]) == 0 {
		delete(t.open, a.Host)
	}
	t.cleared++
	cp := a.snapshot()
	return &cp
}

// flip records a state change of one alarm and reports whether it now flaps: FlapCount
// changes within FlapWindow.
func (t *alarmTable) flip(id alarmID, when time.Time) bool {
	if t.cfg.FlapCount < 0 {
		return false
	}
	cut := when.Add(-t.cfg.FlapWindow)
	fs := t.flips[id]
	n := 0
	for _, f := range fs {
		if f.After(cut) {
			fs[n] = f
			n++
		}
	}
	fs = append(fs[:n], when)
	if len(fs) > t.cfg.FlapCount { // only the last FlapCount changes decide
		fs = append(fs[:0], fs[len(fs)-t.cfg.FlapCount:]...)
	}
	t.flips[id] = fs
	if len(t.flips) > t.sweepAt {
		t.prune(cut)
	}
	return len(fs) >= t.cfg.FlapCount
}

// prune forgets the flap history that fell out of the window, so that memory follows
// the number of recently active alarms, not of all alarms ever seen.
func (t *alarmTable) prune(cut time.Time) {
	for id, fs := range t.flips {
		if !fs[len(fs)-1].After(cut) {
			delete(t.flips, id)
		}
	}
	t.sweepAt = max(1024, 2*len(t.flips))
}

// heldUntil notes a clear held until deadline.
func (t *alarmTable) heldUntil(deadline time.Time) {
	switch {
	case t.held == 1: // the only one
		t.matureAt, t.matureKnown = deadline, true
	case t.matureKnown && deadline.Before(t.matureAt):
		t.matureAt = deadline
	}
}

// mature closes held clears whose hold-down has passed by now.
func (t *alarmTable) mature(now time.Time) []Alarm {
	if t.held == 0 || t.matureKnown && now.Before(t.matureAt) {
		return nil
	}
	var out []Alarm
	t.matureKnown = false
	for _, keys := range t.open {
		for _, a := range keys {
			if a.ClearHeld.IsZero() {
				continue
			}
			deadline := a.ClearHeld.Add(t.cfg.HoldDown)
			if !now.Before(deadline) {
				out = append(out, *t.close(a, a.ClearHeld, a.ClearedBy))
			} else if !t.matureKnown || deadline.Before(t.matureAt) {
				t.matureAt, t.matureKnown = deadline, true
			}
		}
	}
	sortAlarms(out)
	return out
}

func (t *alarmTable) list(keep func(*Alarm) bool) []Alarm {
	var out []Alarm
	for _, keys := range t.open {
		for _, a := range keys {
			if keep(a) {
				out = append(out, a.snapshot())
			}
		}
	}
	sortAlarms(out)
	return out
}

func sortAlarms(as []Alarm) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].Host != as[j].Host {
			return as[i].Host < as[j].Host
		}
		if !as[i].Opened.Equal(as[j].Opened) {
			return as[i].Opened.Before(as[j].Opened)
		}
		return as[i].Key < as[j].Key
	})
}

// Active lists the open alarms by host and opening time; alarms whose clear is held
// are included (they are still open).
func (t *Tracker) Active() []Alarm { return t.alarms.list(func(*Alarm) bool { return true }) }

// Stale lists the open alarms opened StaleAfter or more before now: assertions that
// never cleared.
func (t *Tracker) Stale(now time.Time) []Alarm {
	cut := now.Add(-t.cfg.StaleAfter)
	return t.alarms.list(func(a *Alarm) bool { return !a.Opened.After(cut) })
}

// Close closes the open alarm of host and key as of when, cleared by by (an operator's
// manual close of an alarm that will never see its clear), and returns the closed
// alarm; false when no such alarm is open. A later assert opens a new alarm. Like every
// method, it must be called from the goroutine that owns the tracker.
func (t *Tracker) Close(host, key, by string, when time.Time) (Alarm, bool) {
	a := t.alarms.open[host][key]
	if a == nil {
		return Alarm{}, false
	}
	return *t.alarms.close(a, when, by), true
}

// AlarmTotals counts the alarms opened and closed since the tracker started.
func (t *Tracker) AlarmTotals() (opened, cleared int64) { return t.alarms.opened, t.alarms.cleared }

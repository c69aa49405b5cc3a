package state

import (
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
)

// maxEvidence bounds Alarm.Evidence: the first half of the entries are the events that
// opened the alarm, the rest the latest ones.
const maxEvidence = 8

// refKeep is how long a log line (or a trap waiting for its line) is remembered for the
// joins: a trap and the line it names come within seconds of each other.
const refKeep = 10 * time.Minute

// logRef is the place of a log record as an ssLogReference names it: the host, the
// record's time as written (to the second, the log's wall clock), the process and its
// pid. The log file is not compared: a line received over syslog does not say which
// file the appliance wrote it to.
type logRef struct {
	host, at, process string
	pid               int
}

// refEntry is the alarm a log reference leads to, and when it was recorded.
type refEntry struct {
	host, key string
	at        time.Time
	assert    bool
}

// lineRef is the reference of a log line: only lines read from a log (not traps, polls
// or hsmwatch's own events) with a time and a process.
func lineRef(ev *event.Event) (logRef, bool) {
	switch ev.Source {
	case event.SourceSNMPTrap, event.SourceSNMPPoll, event.SourcePKCS11, event.SourceSelf, event.SourceUnparsed:
		return logRef{}, false
	}
	if ev.Time.IsZero() || ev.Process == "" || ev.Host == "" {
		return logRef{}, false
	}
	return logRef{host: strings.ToLower(ev.Host), at: ev.Time.Format(lunatrap.TimeLayout),
		process: strings.ToLower(ev.Process), pid: ev.PID}, true
}

// trapRef is the reference a trap carries (fields log_host, log_time, process, pid).
func trapRef(ev *event.Event) (logRef, bool) {
	host := ev.Fields.Text("log_host")
	if host == "" {
		host = ev.Host
	}
	at, err := time.Parse(lunatrap.TimeLayout, strings.Join(strings.Fields(ev.Fields.Text("log_time")), " "))
	proc := ev.Fields.Text("process")
	if err != nil || proc == "" || host == "" {
		return logRef{}, false
	}
	pid := 0
	if f, ok := ev.Fields.Get("pid"); ok && f.Kind == event.KindInt {
		pid = int(f.Int)
	}
	return logRef{host: strings.ToLower(host), at: at.Format(lunatrap.TimeLayout),
		process: strings.ToLower(proc), pid: pid}, true
}

// lineRead records a log line that asserts or clears the alarm key of its host, and
// moves the alarm a trap naming this line opened before it (under the trap's key) to the
// line's key.
func (t *alarmTable) lineRead(host string, ref logRef, key string, when time.Time) []Move {
	t.sweepRefs(when)
	t.refs[ref] = refEntry{host: host, key: key, at: when}
	p, ok := t.pending[ref]
	if !ok {
		return nil
	}
	delete(t.pending, ref)
	a := t.open[p.host][p.key]
	if a == nil || (p.host == host && p.key == key) {
		return nil
	}
	return []Move{t.move(a, host, key, when)}
}

// joinTrap applies a trap that names its log line. The line read: the trap is evidence
// of the line's alarm (an assert repeats it, a clear closes it). The line not read yet:
// an assert joins the one open alarm of its notification that a line opened on the host,
// else opens an alarm under the trap's key, and the line takes it over when it is read;
// a clear closes the trap's own alarm (traps without logs), else waits for its line.
func (t *alarmTable) joinTrap(ev *event.Event, ref logRef, trapKey string, when time.Time) outcome {
	assert := ev.Assert == event.True
	if e, ok := t.refs[ref]; ok {
		a := t.open[e.host][e.key]
		if a == nil {
			if assert {
				return outcome{} // the line's alarm closed since: the trap is late news
			}
			return outcome{change: Unmatched}
		}
		if !assert {
			c, cp := t.clear(e.host, e.key, ev, when)
			return outcome{change: c, alarm: cp}
		}
		return t.repeat(a, ev, when)
	}
	t.sweepRefs(when)
	if assert {
		if a := t.soleCandidate(ev.Host, ev.Notification, trapKey); a != nil {
			t.pending[ref] = refEntry{host: a.Host, key: a.Key, at: when, assert: true}
			return t.repeat(a, ev, when)
		}
		c, a := t.assert(ev, trapKey, when)
		t.pending[ref] = refEntry{host: a.Host, key: a.Key, at: when, assert: true}
		return outcome{change: c, alarm: a}
	}
	if t.open[ev.Host][trapKey] != nil {
		c, a := t.clear(ev.Host, trapKey, ev, when)
		return outcome{change: c, alarm: a}
	}
	if a := t.soleCandidate(ev.Host, ev.Notification, trapKey); a != nil {
		a.addEvidence(ev, when) // its line will clear it
	}
	return outcome{change: Unmatched}
}

// repeat records a trap as evidence of an open alarm: it neither opens nor counts as an
// assert of its own (the line asserted), so sinks see one alarm.
func (t *alarmTable) repeat(a *Alarm, ev *event.Event, when time.Time) outcome {
	a.addEvidence(ev, when)
	if when.After(a.LastSeen) {
		a.LastSeen = when
	}
	cp := a.snapshot()
	return outcome{change: Repeated, alarm: &cp}
}

// soleCandidate is the one open alarm of host with the notification that is not the
// trap's own (a line opened it), or nil when there is none or more than one.
func (t *alarmTable) soleCandidate(host, notification, trapKey string) *Alarm {
	if notification == "" {
		return nil
	}
	var found *Alarm
	for k, a := range t.open[host] {
		if k == trapKey || a.Notification != notification {
			continue
		}
		if found != nil {
			return nil
		}
		found = a
	}
	return found
}

// move gives alarm a a new host and key. When an alarm is open there already, a is
// merged into it (its asserts, evidence and level) and closed.
func (t *alarmTable) move(a *Alarm, host, key string, when time.Time) Move {
	from := a.snapshot()
	from.Cleared, from.ClearedBy = when, "moved to "+host+"/"+key
	delete(t.open[a.Host], a.Key)
	if len(t.open[a.Host]) == 0 {
		delete(t.open, a.Host)
	}
	if fs, ok := t.flips[alarmID{a.Host, a.Key}]; ok {
		delete(t.flips, alarmID{a.Host, a.Key})
		t.flips[alarmID{host, key}] = append(t.flips[alarmID{host, key}], fs...)
	}
	keys := t.open[host]
	if keys == nil {
		keys = map[string]*Alarm{}
		t.open[host] = keys
	}
	if b := keys[key]; b != nil {
		if !a.ClearHeld.IsZero() {
			t.held--
		}
		b.Asserts += a.Asserts
		for _, e := range a.Evidence {
			b.appendEvidence(e, false)
		}
		if b.Sources == nil {
			b.Sources = map[string]int64{}
		}
		for s, n := range a.Sources {
			b.Sources[s] += n
		}
		if event.LevelRank(a.Level) > event.LevelRank(b.Level) {
			b.Level = a.Level
		}
		if a.LastSeen.After(b.LastSeen) {
			b.LastSeen = a.LastSeen
		}
		return Move{From: from, To: b.snapshot()}
	}
	a.Host, a.Key = host, key
	keys[key] = a
	return Move{From: from, To: a.snapshot()}
}

// rename moves every open alarm of host from to host to.
func (t *alarmTable) rename(from, to string, when time.Time) []Move {
	if from == to || len(t.open[from]) == 0 {
		return nil
	}
	as := make([]*Alarm, 0, len(t.open[from]))
	for _, a := range t.open[from] {
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Key < as[j].Key })
	out := make([]Move, 0, len(as))
	for _, a := range as {
		out = append(out, t.move(a, to, a.Key, when))
	}
	return out
}

// sweepRefs forgets log references older than refKeep once the maps grow.
func (t *alarmTable) sweepRefs(now time.Time) {
	if len(t.refs)+len(t.pending) <= t.refSweep {
		return
	}
	cut := now.Add(-refKeep)
	for r, e := range t.refs {
		if e.at.Before(cut) {
			delete(t.refs, r)
		}
	}
	for r, e := range t.pending {
		if e.at.Before(cut) {
			delete(t.pending, r)
		}
	}
	t.refSweep = max(1024, 2*(len(t.refs)+len(t.pending)))
}

// addEvidence records ev in a's evidence.
func (a *Alarm) addEvidence(ev *event.Event, when time.Time) {
	a.appendEvidence(Evidence{Source: ev.Source, Rule: ev.Rule, Time: when, Input: ev.Input, Assert: ev.Assert == event.True}, true)
}

// appendEvidence keeps e (and counts it by source when count).
func (a *Alarm) appendEvidence(e Evidence, count bool) {
	if count {
		if a.Sources == nil {
			a.Sources = map[string]int64{}
		}
		a.Sources[e.Source]++
	}
	if len(a.Evidence) < maxEvidence {
		a.Evidence = append(a.Evidence, e)
		return
	}
	// keep the first half (how it opened), shift the latest ones
	copy(a.Evidence[maxEvidence/2:], a.Evidence[maxEvidence/2+1:])
	a.Evidence[maxEvidence-1] = e
}

// snapshot is a copy of a that shares nothing with it: copies go to other goroutines
// (the sinks) while the tracker goes on changing a.
func (a *Alarm) snapshot() Alarm {
	cp := *a
	cp.Evidence = append([]Evidence(nil), a.Evidence...)
	cp.Sources = maps.Clone(a.Sources)
	return cp
}

// markCleared makes a clearing event say so: assert false, the level of the (highest)
// alarm it closed, and that alarm's id.
func markCleared(ev *event.Event, a *Alarm, also []Alarm) {
	ev.Assert = event.False
	ev.Cleared = a.ID
	level := a.Level
	for i := range also {
		if event.LevelRank(also[i].Level) > event.LevelRank(level) {
			level = also[i].Level
		}
	}
	ev.Level = level
}

// MarkCleared makes ev the clear of alarm a: assert false, a's level, cleared a's id
// (the event of a held clear that matured, made by the pipeline).
func MarkCleared(ev *event.Event, a Alarm) { markCleared(ev, &a, nil) }

// FieldRenamedFrom is the field of a rename event (RenameEvent): the host name the HSM
// had until now.
const FieldRenamedFrom = "renamed_from"

// RenameEvent is hsmwatch's own event saying that the HSM known as from is to (a polled
// HSM whose address was its name until its sysName was read). Fed to Observe (through
// the pipeline, in order with the source's other events), it moves the open alarms of
// from to to.
func RenameEvent(from, to string, when time.Time) *event.Event {
	ev := &event.Event{Time: when, Host: to, Source: event.SourceSelf, Process: "hsmwatch",
		Level: "info", Severity: "info", Title: "HSM renamed",
		Message: "the HSM known as " + from + " is " + to + ": its alarms move to " + to,
		Input:   "rename"}
	ev.Raw = ev.Message
	ev.Fields.SetString(FieldRenamedFrom, from)
	return ev
}

// Rename moves the open alarms of host from to host to (an HSM's address replaced by
// its name), merging with alarms open under to, and returns the moves. Like every
// method, it must be called from the goroutine that owns the tracker.
func (t *Tracker) Rename(from, to string) []Move { return t.alarms.rename(from, to, t.now) }

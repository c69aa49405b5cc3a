package poller

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Poll results become events only when a health item changes state, so that an alarm is
// raised once and cleared once:
//
//   - an item that goes bad (warning or critical) sends an event with assert true;
//     a change between warning and critical sends another (the level changed);
//   - an item that comes back to ok sends assert false: an honest clear, from a poll
//     that read a healthy value, never from silence;
//   - an item that stays in its state, or whose value is unknown or pending, sends
//     nothing. A poll that fails clears nothing; it raises the snmp_response item.
//
// The first poll of an HSM sends the asserts of what is already bad and nothing for
// what is fine (there is nothing to clear yet).
//
// Fields (the catalog's snmp-poll.yaml rules match on metric and state): metric (the
// item id), value, threshold (the range that was broken, or that the value is back
// within), state (ok, warning, critical), item (the alarm key), instance (the row),
// unit, previous (the state before), profile, and poll: health (an item), response (the
// agent answers or not) or restart.

// Metric names of the events that are not health items.
const (
	MetricResponse = "snmp_response" // the agent answered (ok) or not (critical)
	MetricRestart  = "restart"       // an uptime went back: the HSM or its agent restarted
)

// alarmStates remembers the last known state of every item of one HSM, by item key.
type alarmStates map[string]string

// change decides whether an item's state is news, and records it.
func (a alarmStates) change(key, state string) (prev string, news bool) {
	prev, seen := a[key]
	a[key] = state
	switch {
	case !seen:
		return "", state != StateOK
	case prev != state:
		return prev, true
	}
	return prev, false
}

// eventSource builds a poll's events: the HSM's host name, its address and profile.
type eventSource struct {
	host, addr, profile string
	now                 time.Time
}

func (s eventSource) base(kind, metric, state, msg string) event.Event {
	ev := event.Event{Time: s.now, Host: s.host, Source: event.SourceSNMPPoll, Message: msg,
		Input: "snmp-poll " + s.addr}
	ev.Fields.SetString("poll", kind)
	ev.Fields.SetString("metric", metric)
	ev.Fields.SetString("state", state)
	return ev
}

// itemEvent is the event of an item that changed from prev to its state.
func (s eventSource) itemEvent(it *Item, prev string) event.Event {
	bad := it.State != StateOK
	// the range broken now, or, for a clear, the one the value is back within
	threshold := it.Warn
	if it.State == StateCritical || (!bad && prev == StateCritical) || threshold == "" {
		threshold = it.Crit
	}
	var msg string
	if bad {
		msg = fmt.Sprintf("%s (%s)", it.Describe(), it.Limit())
	} else {
		msg = fmt.Sprintf("%s: back to normal (was %s)", it.Describe(), prev)
	}
	ev := s.base("health", it.ID, it.State, msg)
	ev.Assert = event.TriOf(bad)
	ev.Fields.SetFloat("value", it.Value)
	ev.Fields.SetString("threshold", threshold)
	ev.Fields.SetString("item", it.Key)
	if it.Instance != "" {
		ev.Fields.SetString("instance", it.Instance)
	}
	if it.Unit != "" {
		ev.Fields.SetString("unit", it.Unit)
	}
	if prev != "" {
		ev.Fields.SetString("previous", prev)
	}
	ev.Fields.SetString("profile", s.profile)
	ev.Raw = s.raw(it.ID, it.Instance, strconv.FormatFloat(it.Value, 'g', -1, 64), it.State, threshold)
	return ev
}

// responseEvent is the event of the agent starting or stopping to answer.
func (s eventSource) responseEvent(ok bool, prev, why string) event.Event {
	state, msg := StateCritical, "the SNMP agent does not answer: "+why
	if ok {
		state, msg = StateOK, "the SNMP agent answers again"
	}
	ev := s.base("response", MetricResponse, state, msg)
	ev.Assert = event.TriOf(!ok)
	v := 0.0
	if ok {
		v = 1
	}
	ev.Fields.SetFloat("value", v)
	ev.Fields.SetString("threshold", "")
	ev.Fields.SetString("item", MetricResponse)
	if prev != "" {
		ev.Fields.SetString("previous", prev)
	}
	ev.Fields.SetString("profile", s.profile)
	ev.Raw = s.raw(MetricResponse, "", strconv.FormatFloat(v, 'g', -1, 64), state, "")
	return ev
}

// restartEvent says the HSM restarted; it asserts nothing (a restart is a fact, not a
// condition that lasts), and the Dinamo's hsmReboot trap or the Luna's log say more.
func (s eventSource) restartEvent(why string) event.Event {
	ev := s.base("restart", MetricRestart, "restarted", "the HSM or its SNMP agent restarted ("+why+"): counters start again")
	ev.Fields.SetString("profile", s.profile)
	ev.Raw = s.raw(MetricRestart, "", "", "restarted", "")
	return ev
}

func (s eventSource) raw(metric, instance, value, state, threshold string) string {
	r := "snmp-poll " + s.addr + " profile=" + s.profile + " metric=" + metric
	if instance != "" {
		r += " instance=" + strconv.Quote(instance)
	}
	if value != "" {
		r += " value=" + value
	}
	r += " state=" + state
	if threshold != "" {
		r += " threshold=" + threshold
	}
	return r
}

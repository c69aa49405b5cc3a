package state

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// A Dinamo HSM numbers its log events with a counter that only grows while the HSM runs
// and starts again when it restarts (the Dinamo HSM event log specification). So, within one log stream: a
// jump forward means events are missing from the export, a step back means the HSM
// restarted (or two exports were joined out of order), and a "log truncated" record says
// who cleared the log and when.

// Finding kinds.
const (
	FindingGap       = "gap"
	FindingReset     = "reset"
	FindingTruncated = "truncated"
)

// Finding is one integrity finding in a Dinamo event log.
type Finding struct {
	Kind    string    `json:"kind"`
	Stream  string    `json:"stream"` // the input the log came from, or the HSM address
	Host    string    `json:"host,omitempty"`
	Time    time.Time `json:"time"`
	Input   string    `json:"input,omitempty"` // file:line of the event that showed it
	From    int64     `json:"from"`            // the counter before
	To      int64     `json:"to"`              // the counter of this event
	Missing int64     `json:"missing,omitempty"`
	By      string    `json:"by,omitempty"`     // who truncated the log
	Client  string    `json:"client,omitempty"` // from which client address
	Note    string    `json:"note"`
}

// Session is one Dinamo client session: every event with the same correlation id (cid).
type Session struct {
	Stream     string           `json:"stream"`
	Host       string           `json:"host,omitempty"`
	CID        string           `json:"cid"`
	ClientIP   string           `json:"client_ip,omitempty"`
	User       string           `json:"user,omitempty"`
	Auth       string           `json:"auth,omitempty"` // "ok", "failed" or "tried"
	First      time.Time        `json:"first"`
	Last       time.Time        `json:"last"`
	Events     int64            `json:"events"`
	Operations map[string]int64 `json:"operations"` // by rule id
	Keys       []string         `json:"keys,omitempty"`
}

const maxSessionKeys = 64

// The rules whose meaning the tracker uses. They are the shipped catalog's ids; an
// operator who replaces those rules keeps their ids.
const (
	ruleTruncated   = "dinamo.log-truncated"
	ruleTruncatedBy = "dinamo.log-truncated-by"
	ruleAuthTry     = "dinamo.auth-try"
	ruleAuthInit    = "dinamo.auth-init"
	ruleAuthOK      = "dinamo.auth-ok"
	ruleAuthFailure = "dinamo.auth-failure"
)

type counterState struct {
	last  int64
	input string
}

type sessionID struct{ stream, cid string }

type dinamoTracker struct {
	maxSessions, maxFindings int
	counters                 map[string]*counterState
	sessions                 map[sessionID]*Session
	findings                 []Finding
	droppedFindings          int64
	evictedSessions          int64
}

func newDinamoTracker(maxSessions, maxFindings int) *dinamoTracker {
	return &dinamoTracker{maxSessions: maxSessions, maxFindings: maxFindings,
		counters: map[string]*counterState{}, sessions: map[sessionID]*Session{}}
}

// stream names the log an event belongs to: its input file (one export is one HSM's
// log), or its host when it came over the network. Lines of one export that carry no
// client trailer have no host, so the host alone would split one log in two.
func stream(ev *event.Event) string {
	if i := strings.LastIndexByte(ev.Input, ':'); i > 0 {
		return ev.Input[:i]
	}
	return ev.Host
}

func (d *dinamoTracker) observe(ev *event.Event, when time.Time) {
	s := stream(ev)
	if f, ok := ev.Fields.Get("counter"); ok && f.Kind == event.KindInt {
		d.checkCounter(s, ev, when, f.Int)
	}
	switch ev.Rule {
	case ruleTruncated:
		d.add(Finding{Kind: FindingTruncated, Stream: s, Host: ev.Host, Time: when, Input: ev.Input,
			To: counterOf(ev), By: ev.Fields.Text("user"), Client: ev.Fields.Text("client_ip"),
			Note: "the log was cleared: events before this one are gone from the HSM"})
	case ruleTruncatedBy:
		d.truncatedBy(s, ev, when)
	}
	if cid := ev.Fields.Text("cid"); cid != "" {
		d.session(s, cid, ev, when)
	}
}

func counterOf(ev *event.Event) int64 {
	if f, ok := ev.Fields.Get("counter"); ok && f.Kind == event.KindInt {
		return f.Int
	}
	return -1
}

func (d *dinamoTracker) checkCounter(s string, ev *event.Event, when time.Time, n int64) {
	c := d.counters[s]
	if c == nil {
		d.counters[s] = &counterState{last: n, input: ev.Input}
		return
	}
	switch {
	case n == c.last+1:
	case n > c.last+1:
		d.add(Finding{Kind: FindingGap, Stream: s, Host: ev.Host, Time: when, Input: ev.Input,
			From: c.last, To: n, Missing: n - c.last - 1,
			Note: fmt.Sprintf("%d events missing between counter %X and %X", n-c.last-1, c.last, n)})
	default:
		d.add(Finding{Kind: FindingReset, Stream: s, Host: ev.Host, Time: when, Input: ev.Input,
			From: c.last, To: n,
			Note: fmt.Sprintf("counter went back from %X to %X: the HSM restarted, or exports were joined out of order", c.last, n)})
	}
	c.last, c.input = n, ev.Input
}

// truncatedBy completes the truncation record that the "log truncated" line opened
// (the two lines come together), or records one when that line is missing.
func (d *dinamoTracker) truncatedBy(s string, ev *event.Event, when time.Time) {
	who := ev.Fields.Text("truncated_by")
	for i := len(d.findings) - 1; i >= 0 && i >= len(d.findings)-4; i-- {
		f := &d.findings[i]
		if f.Kind == FindingTruncated && f.Stream == s && f.Time.Equal(when) {
			if who != "" {
				f.By = who
			}
			return
		}
	}
	d.add(Finding{Kind: FindingTruncated, Stream: s, Host: ev.Host, Time: when, Input: ev.Input,
		To: counterOf(ev), By: who, Client: ev.Fields.Text("client_ip"),
		Note: "the log was cleared: events before this one are gone from the HSM"})
}

func (d *dinamoTracker) add(f Finding) {
	if len(d.findings) >= d.maxFindings {
		d.droppedFindings++
		return
	}
	d.findings = append(d.findings, f)
}

func (d *dinamoTracker) session(s, cid string, ev *event.Event, when time.Time) {
	id := sessionID{s, cid}
	ss := d.sessions[id]
	if ss == nil {
		if len(d.sessions) >= d.maxSessions {
			d.evictOldest()
		}
		ss = &Session{Stream: s, CID: cid, First: when, Operations: map[string]int64{}}
		d.sessions[id] = ss
	}
	ss.Events++
	if when.After(ss.Last) {
		ss.Last = when
	}
	if ss.Host == "" {
		ss.Host = ev.Host
	}
	if ip := firstOf(ev.Fields.Text("client_ip"), ev.Fields.Text("auth_client")); ip != "" && ss.ClientIP == "" {
		ss.ClientIP = ip
	}
	if u := firstOf(ev.Fields.Text("auth_user"), ev.Fields.Text("user")); u != "" && u != "-" {
		ss.User = u
	}
	switch ev.Rule {
	case ruleAuthOK:
		ss.Auth = "ok"
	case ruleAuthFailure:
		ss.Auth = "failed"
	case ruleAuthTry, ruleAuthInit:
		if ss.Auth == "" {
			ss.Auth = "tried"
		}
	}
	if ev.Rule != "" {
		ss.Operations[ev.Rule]++
	}
	if k := ev.Fields.Text("key_name"); k != "" && len(ss.Keys) < maxSessionKeys && !contains(ss.Keys, k) {
		ss.Keys = append(ss.Keys, k)
	}
}

// evictOldest drops the least recently active tenth of the sessions at once, so that
// eviction costs O(log n) per session however long the log.
func (d *dinamoTracker) evictOldest() {
	ids := make([]sessionID, 0, len(d.sessions))
	for id := range d.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return d.sessions[ids[i]].Last.Before(d.sessions[ids[j]].Last) })
	for _, id := range ids[:max(1, len(ids)/10)] {
		delete(d.sessions, id)
		d.evictedSessions++
	}
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Findings lists the Dinamo integrity findings in the order seen, and how many were
// dropped beyond MaxFindings.
func (t *Tracker) Findings() ([]Finding, int64) {
	return append([]Finding(nil), t.dinamo.findings...), t.dinamo.droppedFindings
}

// Sessions lists the Dinamo sessions kept, by first event, and how many older ones were
// evicted beyond MaxSessions.
func (t *Tracker) Sessions() ([]Session, int64) {
	out := make([]Session, 0, len(t.dinamo.sessions))
	for _, s := range t.dinamo.sessions {
		cp := *s
		cp.Operations = make(map[string]int64, len(s.Operations))
		for k, v := range s.Operations {
			cp.Operations[k] = v
		}
		cp.Keys = append([]string(nil), s.Keys...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].First.Equal(out[j].First) {
			return out[i].First.Before(out[j].First)
		}
		if out[i].CID != out[j].CID {
			return out[i].CID < out[j].CID
		}
		// Two streams (files, HSMs) can number a session alike and open it in the same
		// second: the stream decides, or the report's order would be the map's.
		return out[i].Stream < out[j].Stream
	})
	return out, t.dinamo.evictedSessions
}

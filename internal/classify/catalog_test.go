package classify

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

func shippedCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestShippedExamples runs "hsmwatch rules test" on the shipped catalog.
func TestShippedExamples(t *testing.T) {
	c := shippedCatalog(t)
	for _, f := range c.Test() {
		t.Error(f.Error())
	}
	for _, r := range c.Rules() {
		if len(r.Examples) == 0 && !noLineForm(r) && r.Priority > -90 {
			t.Errorf("%s: rule %s has no example line", r.Origin, r.ID)
		}
	}
}

// noLineForm reports whether a rule matches only events that have no line to give as an
// example: SNMP traps and SNMP poll results.
func noLineForm(r *Rule) bool {
	if len(r.Match.Source) == 0 {
		return false
	}
	for _, s := range r.Match.Source {
		if s != event.SourceSNMPTrap && s != event.SourceSNMPPoll && s != event.SourcePKCS11 {
			return false
		}
	}
	return true
}

// TestSNMPPollRules stands in for the examples snmp-poll rules cannot have: for every
// rule of source snmp-poll it builds the event the poller sends (the rule's fields, a
// state) and checks that it classifies to that rule, with the assert the state implies
// and the same alarm key for the raise and the clear. A rule without examples that is
// neither snmp-poll nor snmp-trap still fails TestShippedExamples.
func TestSNMPPollRules(t *testing.T) {
	c := shippedCatalog(t)
	n := 0
	for _, r := range c.Rules() {
		if !inList(r.Match.Source, event.SourceSNMPPoll, false) {
			continue
		}
		n++
		state := r.Match.Fields["state"]
		if state == "" {
			state = "warning"
		}
		ev := event.Event{Source: event.SourceSNMPPoll, Host: "hsm1", Message: "x"}
		for k, v := range r.Match.Fields {
			ev.Fields.SetString(k, v)
		}
		if _, ok := ev.Fields.Get("poll"); !ok {
			ev.Fields.SetString("poll", "health")
		}
		if _, ok := ev.Fields.Get("metric"); !ok {
			ev.Fields.SetString("metric", "some_item")
		}
		ev.Fields.SetString("state", state)
		ev.Fields.SetString("item", ev.Fields.Text("metric")+":par0")
		got := c.Classify(&ev)
		if got != r {
			t.Errorf("%s: an event with fields %v classifies as %v", r.ID, r.Match.Fields, got)
			continue
		}
		if r.Assert.Set && ev.Assert != event.True {
			t.Errorf("%s: state %s gives assert %v, want true", r.ID, state, ev.Assert)
		}
		raiseKey := r.AlarmKey(&ev)
		if !r.Assert.Set {
			continue
		}
		// the clear of the same item: state ok, classified by the base rule of the metric
		clear := event.Event{Source: event.SourceSNMPPoll, Host: "hsm1", Message: "x"}
		clear.Fields = append(clear.Fields, ev.Fields...)
		clear.Fields.SetString("state", "ok")
		cr := c.Classify(&clear)
		if cr == nil || clear.Assert != event.False || cr.AlarmKey(&clear) != raiseKey {
			t.Errorf("%s: the clear classifies as %v, assert %v, key %q (raise key %q)", r.ID, cr, clear.Assert, cr.AlarmKey(&clear), raiseKey)
		}
	}
	if n < 10 {
		t.Errorf("%d snmp-poll rules", n)
	}
}

// TestPKCS11ProbeRules stands in for the examples the pkcs11 probe's rules cannot have:
// for every rule of source pkcs11 it builds the event the probe sends (the rule's fields,
// a state), checks that it classifies to that rule and asserts, and that the clear of the
// same finding (state ok) closes the same alarm key.
func TestPKCS11ProbeRules(t *testing.T) {
	c := shippedCatalog(t)
	n := 0
	for _, r := range c.Rules() {
		if !inList(r.Match.Source, event.SourcePKCS11, false) {
			continue
		}
		n++
		ev := event.Event{Source: event.SourcePKCS11, Host: "TOKEN1", Message: "x"}
		for k, v := range r.Match.Fields {
			ev.Fields.SetString(k, v)
		}
		if _, ok := ev.Fields.Get("state"); !ok {
			ev.Fields.SetString("state", "warning")
		}
		if _, ok := ev.Fields.Get("finding"); !ok {
			ev.Fields.SetString("finding", ev.Fields.Text("family")+".some")
		}
		ev.Fields.SetString("item", "TOKEN1:"+ev.Fields.Text("finding"))
		got := c.Classify(&ev)
		if got != r {
			t.Errorf("%s: an event with fields %v classifies as %v", r.ID, r.Match.Fields, got)
			continue
		}
		if !r.Assert.Set || ev.Assert != event.True {
			t.Errorf("%s: gives assert %v, want true", r.ID, ev.Assert)
			continue
		}
		raiseKey := r.AlarmKey(&ev)
		clear := event.Event{Source: event.SourcePKCS11, Host: "TOKEN1", Message: "x"}
		clear.Fields = append(clear.Fields, ev.Fields...)
		clear.Fields.SetString("state", "ok")
		cr := c.Classify(&clear)
		if cr == nil || clear.Assert != event.False || cr.AlarmKey(&clear) != raiseKey {
			t.Errorf("%s: the clear classifies as %v, assert %v (raise key %q)", r.ID, cr, clear.Assert, raiseKey)
		}
	}
	if n < 8 {
		t.Errorf("%d pkcs11 rules", n)
	}
}

func TestNoLineForm(t *testing.T) {
	for _, c := range []struct {
		src  []string
		want bool
	}{
		{[]string{"snmp-poll"}, true},
		{[]string{"snmp-trap"}, true},
		{[]string{"snmp-trap", "snmp-poll"}, true},
		{[]string{"snmp-poll", "luna-syslog"}, false},
		{nil, false},
	} {
		if got := noLineForm(&Rule{Match: Match{Source: c.src}}); got != c.want {
			t.Errorf("noLineForm(%v) = %v", c.src, got)
		}
	}
}

type guideExample struct {
	Line      string  `json:"line"`
	Component string  `json:"component"`
	Class     *string `json:"class"`
	DocLine   int     `json:"doc_line"`
}

// TestGuideCorpusClassification: at least 99 % of the guide's examples classify to their
// labelled component and class (component only where the class is null).
func TestGuideCorpusClassification(t *testing.T) {
	c := shippedCatalog(t)
	examples := testutil.ReadJSONL[guideExample](t, "corpus/luna-guide-examples.jsonl")
	wrong := 0
	for i, ex := range examples {
		if ex.Component == "syslog-structure" {
			continue // the guide's illustration of the header, not a message
		}
		ev := parsed(t, ex.Line)
		c.Classify(ev)
		ok := ev.Component == ex.Component && (ex.Class == nil || ev.Class == *ex.Class)
		if !ok {
			wrong++
			want := "<null>"
			if ex.Class != nil {
				want = *ex.Class
			}
			t.Logf("corpus line %d (guide line %d): got %s/%s (rule %s), want %s/%s: %s",
				i+1, ex.DocLine, ev.Component, ev.Class, ev.Rule, ex.Component, want, ex.Line)
		}
	}
	share := 1 - float64(wrong)/float64(len(examples))
	t.Logf("%d of %d corpus lines classify as labelled (%.2f %%)", len(examples)-wrong, len(examples), 100*share)
	if share < 0.99 {
		t.Errorf("only %.2f %% of the corpus classifies as labelled; at least 99 %% is required", 100*share)
	}
}

type trapCase struct {
	Line         string  `json:"line"`
	Notification *string `json:"notification"`
	Assert       *bool   `json:"assert"`
}

// TestTrapAgentCategories: every case of the trap agent's corpus gets its notification
// and assert, and no other notification.
func TestTrapAgentCategories(t *testing.T) {
	c := shippedCatalog(t)
	for i, tc := range testutil.ReadJSONL[trapCase](t, "corpus/lsta-trap-cases.jsonl") {
		ev := parsed(t, tc.Line)
		c.Classify(ev)
		want := ""
		if tc.Notification != nil {
			want = *tc.Notification
		}
		if want == "ntlAttentionNotify" {
			want = "ntlsAttentionNotify" // the guide's typo: the MIB names it ntlsAttentionNotify
		}
		wantAssert := event.Unset
		if tc.Assert != nil {
			wantAssert = event.TriOf(*tc.Assert)
		}
		if ev.Notification != want || (want != "" && ev.Assert != wantAssert) {
			t.Errorf("case %d: notification %q assert %s (rule %s), want %q %s: %s",
				i+1, ev.Notification, triString(ev.Assert), ev.Rule, want, triString(wantAssert), tc.Line)
		}
	}
}

// TestUnknownMessageOfKnownProcess: a line from a known process that no rule knows gets
// that process's component and class "unknown", never silence.
func TestUnknownMessageOfKnownProcess(t *testing.T) {
	c := shippedCatalog(t)
	for line, component := range map[string]string{
		"2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: info : 0 : a message no release has written yet": "ntls",
		"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: a message no release has written yet":              "ipmi",
		"2012 Feb 29 12:05:01 myLuna daemon info smartd[1234]: a message no release has written yet":           "smart",
		"2012 Feb 29 12:05:01 myLuna local5 info lsta: a message no release has written yet":                   "lsta",
	} {
		ev := parsed(t, line)
		if r := c.Classify(ev); r == nil || ev.Component != component || ev.Class != "unknown" {
			t.Errorf("%s: component %q class %q (rule %v), want %s/unknown", line, ev.Component, ev.Class, r, component)
		}
	}
}

// TestPackRulesYieldToTheGuide checks that a rule written for any tool's wording ranks
// below the Luna guide's own formats: a Luna sensor the guide's named rules do not list
// (a fan beyond Fan3B) keeps the guide's generic sensor rule, its sensor field and so its
// alarm key, rather than a pack's rule without a key.
func TestPackRulesYieldToTheGuide(t *testing.T) {
	c := shippedCatalog(t)
	ev := parsed(t, "2012 Feb 29 12:09:05 lunaBulk local4 notice ipmievd: Fan sensor Fan5A . Lower Non-recoverable going low (Reading 0 < Threshold 1000 RPM)")
	r := c.Classify(ev)
	if r == nil || r.ID != "luna.ipmi.threshold-lnr-going-low" {
		t.Fatalf("rule %v, want luna.ipmi.threshold-lnr-going-low", r)
	}
	if s, _ := ev.Fields.Get("sensor"); s.String() != "Fan5A" {
		t.Errorf("sensor %q, want Fan5A", s.String())
	}
}

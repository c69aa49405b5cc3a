package classify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

func catalogFrom(t *testing.T, yamlText string) *Catalog {
	t.Helper()
	pf, err := parseFile("test.yaml", []byte(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCatalog(pf.rules, pf.floor)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parsed(t *testing.T, line string) *event.Event {
	t.Helper()
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	ev := &event.Event{}
	parse.Into(p, line, ev)
	if ev.Source == event.SourceUnparsed {
		t.Fatalf("%q does not parse: %s", line, ev.Reason)
	}
	return ev
}

const testRules = `
rules:
  - id: t.fan.low
    component: ipmi
    class: significant
    title: Fan low
    level: critical
    notification: fanAttentionNotify
    assert: "reading <= threshold_value"
    key: "{sensor}"
    priority: 20
    match:
      process: [ipmievd]
      contains: ["going low", "Fan"]
      regex: 'sensor (?P<sensor>Fan[0-9][AB]) \. (?P<threshold_name>Lower (Critical|Non-recoverable)) going low'
  - id: t.threshold.generic
    component: ipmi
    title: Threshold
    level: warning
    match:
      process: [ipmievd]
      contains: ["going low"]
  - id: t.ipmi.any
    component: ipmi
    title: Unknown ipmi message
    level: info
    priority: -100
    match:
      process: [ipmievd, IPMIEV]
  - id: t.alm2007
    component: luna-pcie-alarm
    title: HSM zeroized
    level: critical
    match:
      fields: {alarm_code: "2007"}
  - id: t.discrete
    component: ipmi
    title: discrete
    level: major
    assert: 'state == "Asserted"'
    match:
      contains: ["Failure detected"]
      regex: 'Failure detected (?P<state>Asserted|Deasserted)'
`

func TestClassifyPriorityAssertAndCaptures(t *testing.T) {
	c := catalogFrom(t, testRules)
	for _, tc := range []struct {
		line, rule string
		assert     event.Tri
		fields     map[string]string
	}{
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)",
			"t.fan.low", event.True, map[string]string{"sensor": "Fan3B", "threshold_name": "Lower Critical"}},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: ***TEST : Fan sensor Fan3B . Lower Critical going low (Reading 2000 .lt Threshold 2000 RPM)",
			"t.fan.low", event.True, nil},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 21000 .lt Threshold 2000 RPM)",
			"t.fan.low", event.False, nil},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Voltage sensor VBAT . Lower Critical going low (Reading 1.63 < Threshold 2.80 Volts)",
			"t.threshold.generic", event.Unset, nil},
		{"2012 Feb 29 12:05:01 myLuna local4 notice IPMIEVD: Sensors cached", "t.ipmi.any", event.Unset, nil},
		{"2012 Feb 29 12:05:01 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized", "t.alm2007", event.Unset, nil},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted", "t.discrete", event.False, map[string]string{"state": "Deasserted"}},
	} {
		ev := parsed(t, tc.line)
		r := c.Classify(ev)
		if r == nil || r.ID != tc.rule {
			t.Errorf("%s: rule %v, want %s", tc.line, r, tc.rule)
			continue
		}
		if ev.Rule != tc.rule || ev.Component == "" || ev.Level != r.Level || ev.Assert != tc.assert {
			t.Errorf("%s: applied %q %q %q assert=%v, want assert %v", tc.line, ev.Rule, ev.Component, ev.Level, ev.Assert, tc.assert)
		}
		for k, v := range tc.fields {
			if ev.Fields.Text(k) != v {
				t.Errorf("%s: field %s = %q, want %q", tc.line, k, ev.Fields.Text(k), v)
			}
		}
	}
	if r := c.Classify(parsed(t, "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1]: nothing known")); r != nil {
		t.Errorf("unknown process matched %s", r.ID)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"rules:\n  - id: a\n    component: x\n    level: info\n    match: {contains: [\"x\"], regex: '(['}\n", "test.yaml:2: rule a: regex: error parsing regexp"},
		{"rules:\n  - id: a\n    component: x\n    level: loud\n    match: {contains: [x]}\n", "test.yaml:2: rule a: level \"loud\""},
		{"rules:\n  - id: a\n    component: x\n    level: info\n    match: {}\n", "test.yaml:2: rule a: match has no constraint"},
		{"rules:\n  - id: a\n    component: x\n    level: info\n    colour: red\n    match: {contains: [x]}\n", "test.yaml:5: field colour not found (unknown key)"},
		{"rules:\n  - id: a\n    component: x\n    level: info\n    assert: maybe\n    match: {contains: [x]}\n", "test.yaml:2: rule a: assert: \"maybe\""},
		{"rules: [\n", "test.yaml:1: did not find expected node content"},
	} {
		_, err := parseFile("test.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

func TestOperatorRulesReplaceAndAdd(t *testing.T) {
	dir := t.TempDir()
	shippedRules, err := loadFS(shipped, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	extra := "rules:\n  - id: local.ntls.custom\n    component: ntls\n    level: major\n    title: custom\n    match: {process: [NTLS], contains: [\"my custom text\"]}\n"
	if len(shippedRules.rules) > 0 {
		extra += "  - id: " + shippedRules.rules[0].ID + "\n    component: replaced\n    level: debug\n    match: {contains: [\"zzz-never\"]}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "local.yaml"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := c.Rule("local.ntls.custom"); !ok || r.Origin != filepath.Join(dir, "local.yaml")+":2" {
		t.Errorf("added rule: %+v", r)
	}
	if len(shippedRules.rules) > 0 {
		if r, _ := c.Rule(shippedRules.rules[0].ID); r.Component != "replaced" {
			t.Errorf("shipped rule %s not replaced", shippedRules.rules[0].ID)
		}
		if len(c.Rules()) != len(shippedRules.rules)+1 {
			t.Errorf("%d rules, want %d", len(c.Rules()), len(shippedRules.rules)+1)
		}
	}
	dup := extra + "  - id: local.ntls.custom\n    component: ntls\n    level: info\n    match: {contains: [x]}\n"
	os.WriteFile(filepath.Join(dir, "local.yaml"), []byte(dup), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "already defined at") {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing path: %v", err)
	}
}

// TestLiteralIndexAgainstBruteForce: the automaton finds exactly the anchors that
// strings.Contains finds.
func TestLiteralIndexAgainstBruteForce(t *testing.T) {
	anchors := []string{"he", "she", "his", "hers", "Fan", "an", "going low", "low", "w", "ALM2007"}
	ids := make([]int32, len(anchors))
	for i := range ids {
		ids[i] = int32(i)
	}
	ix := newLiteralIndex(anchors, ids)
	for _, s := range []string{"", "ushers", "Fan3B going low", "ALM2007: HSM zeroized", "hishe", "nothing", "wwww"} {
		found := map[int32]bool{}
		ix.scan(s, func(r int32) { found[r] = true })
		for i, a := range anchors {
			if strings.Contains(s, a) != found[int32(i)] {
				t.Errorf("%q: anchor %q found=%v", s, a, found[int32(i)])
			}
		}
	}
}

func FuzzLiteralIndex(f *testing.F) {
	f.Add("Fan sensor Fan3B going low", "going", "Fan3")
	f.Fuzz(func(t *testing.T, s, a, b string) {
		if a == "" || b == "" {
			return
		}
		ix := newLiteralIndex([]string{a, b}, []int32{0, 1})
		found := [2]bool{}
		ix.scan(s, func(r int32) { found[r] = true })
		if found[0] != strings.Contains(s, a) || found[1] != strings.Contains(s, b) {
			t.Fatalf("s=%q a=%q b=%q found=%v", s, a, b, found)
		}
	})
}

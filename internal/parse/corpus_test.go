package parse

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

type guideExample struct {
	Line      string  `json:"line"`
	Component string  `json:"component"`
	Class     *string `json:"class"`
	DocLine   int     `json:"doc_line"`
}

// The oracle: a regular expression written from the guide's chapter 1, independent of
// the hand-written scanner it checks.
var (
	oracleFacility = `kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7]`
	oracleSeverity = `emerg|panic|alert|crit|critical|err|error|warn|warning|notice|info|debug`
	oracleLine     = regexp.MustCompile(`^(\d{4}) +([A-Z][a-z]{2}) +(\d{1,2}) +(\d\d:\d\d:\d\d) +(\S+) +` +
		`((?:(?:` + oracleFacility + `|` + oracleSeverity + `) +)*)` +
		`-?([^\s:\[]+)(?: ?\[(\d+)\])?: ?(.*)$`)
	oracleSeverityName = map[string]string{"panic": "emerg", "critical": "crit", "error": "err", "warn": "warning"}
)

func oracleExpect(t *testing.T, line string) event.Event {
	t.Helper()
	m := oracleLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("oracle does not understand %q", line)
	}
	ts, err := time.ParseInLocation("2006 Jan 2 15:04:05", m[1]+" "+m[2]+" "+m[3]+" "+m[4], time.UTC)
	if err != nil {
		t.Fatalf("oracle time of %q: %v", line, err)
	}
	want := event.Event{Time: ts, Host: m[5], Process: m[7], Message: m[9]}
	for _, kw := range strings.Fields(m[6]) {
		if regexp.MustCompile(`^(` + oracleFacility + `)$`).MatchString(kw) {
			if want.Facility == "" {
				want.Facility = kw
			}
		} else if want.Severity == "" {
			want.Severity = kw
			if n, ok := oracleSeverityName[kw]; ok {
				want.Severity = n
			}
		}
	}
	if m[8] != "" {
		want.PID, _ = strconv.Atoi(m[8])
	}
	return want
}

// TestLunaGuideCorpus: every example line of the Luna guide parses with the right time,
// host, facility, severity, process and pid.
func TestLunaGuideCorpus(t *testing.T) {
	examples := readJSONL[guideExample](t, "corpus/luna-guide-examples.jsonl")
	if len(examples) < 700 {
		t.Fatalf("corpus has %d lines, expected the full set", len(examples))
	}
	p, _ := New(Auto, goldenOptions())
	var ev event.Event
	for i, ex := range examples {
		Into(p, ex.Line, &ev)
		want := oracleExpect(t, ex.Line)
		where := "corpus line " + strconv.Itoa(i+1) + " (guide line " + strconv.Itoa(ex.DocLine) + ")"
		if ev.Source != event.SourceLunaSyslog {
			t.Errorf("%s: source %q (%s), want luna-syslog: %s", where, ev.Source, ev.Reason, ex.Line)
			continue
		}
		if !ev.Time.Equal(want.Time) || ev.Host != want.Host || ev.Facility != want.Facility ||
			ev.Severity != want.Severity || ev.Process != want.Process || ev.PID != want.PID {
			t.Errorf("%s: %s\n got  time=%s host=%q fac=%q sev=%q proc=%q pid=%d\n want time=%s host=%q fac=%q sev=%q proc=%q pid=%d",
				where, ex.Line, ev.Time, ev.Host, ev.Facility, ev.Severity, ev.Process, ev.PID,
				want.Time, want.Host, want.Facility, want.Severity, want.Process, want.PID)
		}
		if !ev.Test && ev.Message != want.Message {
			t.Errorf("%s: message %q, want %q", where, ev.Message, want.Message)
		}
	}
}

type trapCase struct {
	Facility     string  `json:"facility"`
	Severity     string  `json:"severity"`
	Process      string  `json:"process"`
	Message      string  `json:"message"`
	Line         string  `json:"line"`
	Notification *string `json:"notification"`
	Assert       *bool   `json:"assert"`
}

// TestTrapTestCorpus: trap-test lines lose their ***TEST marker, are flagged as tests
// and keep the header fields the corpus labels.
func TestTrapTestCorpus(t *testing.T) {
	cases := readJSONL[trapCase](t, "corpus/lsta-trap-cases.jsonl")
	p, _ := New(Auto, goldenOptions())
	var ev event.Event
	for i, c := range cases {
		Into(p, c.Line, &ev)
		if ev.Facility != c.Facility || ev.Severity != c.Severity || ev.Process != c.Process ||
			ev.Message != c.Message || !ev.Test {
			t.Errorf("case %d: %s\n got  fac=%q sev=%q proc=%q test=%v msg=%q\n want fac=%q sev=%q proc=%q test=true msg=%q",
				i+1, c.Line, ev.Facility, ev.Severity, ev.Process, ev.Test, ev.Message,
				c.Facility, c.Severity, c.Process, c.Message)
		}
	}
}

// TestTrapTestComparison: ".lt" and ".gt" in a trap test read as "<" and ">".
func TestTrapTestComparison(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	for _, tc := range []struct {
		line, op        string
		reading, thresh float64
		unit            string
	}{
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: ***TEST : Fan sensor Fan3B . Lower Critical going low (Reading 2000 .lt Threshold 2000 RPM)", "<", 2000, 2000, "RPM"},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: ***TEST : Voltage sensor PSU2_+12V_value. Upper Non-recoverable going high (Reading 14.538 .gt Threshold 13.392 Volts)", ">", 14.538, 13.392, "Volts"},
		{"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)", "<", 1600, 2000, "RPM"},
	} {
		var ev event.Event
		Into(p, tc.line, &ev)
		op := ev.Fields.Text("comparison")
		r, _ := ev.Fields.Get("reading")
		th, _ := ev.Fields.Get("threshold_value")
		if op != tc.op || r.Float != tc.reading || th.Float != tc.thresh || ev.Fields.Text("unit") != tc.unit {
			t.Errorf("%s: comparison=%q reading=%v threshold=%v unit=%q", tc.line, op, r.Float, th.Float, ev.Fields.Text("unit"))
		}
	}
}

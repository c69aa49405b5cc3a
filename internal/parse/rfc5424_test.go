package parse

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// parse5424 runs line through the rfc5424 parser the way callers do (Into) and fails the
// test when it comes out unparsed.
func parse5424(t *testing.T, line string) event.Event {
	t.Helper()
	p, err := New(event.SourceRFC5424, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	Into(p, line, &ev)
	if ev.Source != event.SourceRFC5424 {
		t.Fatalf("%q: source %q, reason %q", line, ev.Source, ev.Reason)
	}
	return ev
}

// fieldList returns the fields as "key=value" in their order.
func fieldList(ev event.Event) []string {
	out := make([]string, 0, len(ev.Fields))
	for _, f := range ev.Fields {
		out = append(out, f.Key+"="+f.String())
	}
	return out
}

func checkFields(t *testing.T, ev event.Event, want ...string) {
	t.Helper()
	got := fieldList(ev)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields:\ngot  %q\nwant %q", got, want)
	}
}

type header5424 struct {
	time                              time.Time
	host, facility, severity, process string
	pid                               int
	message                           string
	test                              bool
}

func checkHeader(t *testing.T, ev event.Event, want header5424) {
	t.Helper()
	if !ev.Time.Equal(want.time) || ev.Time.IsZero() != want.time.IsZero() {
		t.Errorf("time %v, want %v", ev.Time, want.time)
	}
	if !want.time.IsZero() {
		_, gotOff := ev.Time.Zone()
		_, wantOff := want.time.Zone()
		if gotOff != wantOff {
			t.Errorf("time offset %d, want %d", gotOff, wantOff)
		}
	}
	got := header5424{time: want.time, host: ev.Host, facility: ev.Facility, severity: ev.Severity,
		process: ev.Process, pid: ev.PID, message: ev.Message, test: ev.Test}
	if got != want {
		t.Errorf("header:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestRFC5424Full(t *testing.T) {
	line := `<165>1 2026-11-22T05:31:30.123456+01:00 myLuna.example.com evntslog worker-7 ID47 ` +
		`[origin@32473 software="rsyslogd" ip="192.168.0.10"][exampleSDID@32473 iut="3" eventSource="App\"li\]cation"] ` +
		"\ufeffAn application event log entry...\n"
	ev := parse5424(t, line)
	checkHeader(t, ev, header5424{
		time:     time.Date(2026, 11, 22, 5, 31, 30, 123456000, time.FixedZone("", 3600)),
		host:     "myLuna.example.com",
		facility: "local4", severity: "notice", process: "evntslog",
		message: "An application event log entry...",
	})
	checkFields(t, ev,
		"procid=worker-7",
		"msgid=ID47",
		`sd.exampleSDID@32473.eventSource=App"li]cation`,
		"sd.exampleSDID@32473.iut=3",
		"sd.origin@32473.ip=192.168.0.10",
		"sd.origin@32473.software=rsyslogd",
	)
	if ev.Raw != line {
		t.Errorf("raw %q", ev.Raw)
	}
}

func TestRFC5424NilFields(t *testing.T) {
	ev := parse5424(t, `<34>1 - - - - - -`)
	checkHeader(t, ev, header5424{facility: "auth", severity: "crit"})
	checkFields(t, ev)
	if !ev.Time.IsZero() {
		t.Errorf("time %v, want zero", ev.Time)
	}
	// PRI 0 is kern.emerg; a PROCID of 0 is no pid, so it is kept as text.
	ev = parse5424(t, `<0>1 - host - 0 - - `)
	checkHeader(t, ev, header5424{host: "host", facility: "kern", severity: "emerg"})
	checkFields(t, ev, "procid=0")
}

func TestRFC5424Lunalog(t *testing.T) {
	ev := parse5424(t, `<174>1 2026-11-22T05:31:30.123+01:00 myLuna NTLS 1234 - - info : 0xc0000002 : Connection accepted from: 192.168.0.100/40847`)
	checkHeader(t, ev, header5424{
		time:     time.Date(2026, 11, 22, 4, 31, 30, 123000000, time.UTC).In(time.FixedZone("", 3600)),
		host:     "myLuna",
		facility: "local5", severity: "info", process: "NTLS", pid: 1234,
		message: "info : 0xc0000002 : Connection accepted from: 192.168.0.100/40847",
	})
	checkFields(t, ev,
		"log_severity=info",
		"error_code=0xc0000002",
		"description=Connection accepted from: 192.168.0.100/40847",
		"client_ip=192.168.0.100",
		"app_id=40847",
	)
}

// rsyslog's RSYSLOG_SyslogProtocol23Format leaves the space that followed "tag:" in front
// of the message: two spaces after the SD. One is removed so that the decoders see the text.
func TestRFC5424RsyslogSpace(t *testing.T) {
	ev := parse5424(t, "<174>1 2026-11-22T05:31:30.123456+01:00 myLuna lunash 4321 - -  info : 0 : Command: hsm show : admin : 192.168.0.111/2719\n")
	if ev.Message != "info : 0 : Command: hsm show : admin : 192.168.0.111/2719" {
		t.Errorf("message %q", ev.Message)
	}
	checkFields(t, ev,
		"log_severity=info",
		"error_code=0",
		"description=Command: hsm show : admin : 192.168.0.111/2719",
		"client_ip=192.168.0.111",
		"app_id=2719",
		"command=hsm show",
		"account=admin",
	)
	// Only one: further spaces belong to the message.
	if ev := parse5424(t, "<13>1 - - - - - -   indented"); ev.Message != " indented" {
		t.Errorf("message %q", ev.Message)
	}
}

func TestRFC5424TrapTest(t *testing.T) {
	ev := parse5424(t, `<165>1 2014-04-03T15:47:30Z myLUT ipmievd - - - ***TEST : SEQNO_10000 : Fan sensor Fan3B . Lower Critical going low (Reading 0 .lt Threshold 2000 RPM)`)
	checkHeader(t, ev, header5424{
		time:     time.Date(2014, 4, 3, 15, 47, 30, 0, time.UTC),
		host:     "myLUT",
		facility: "local4", severity: "notice", process: "ipmievd",
		message: "Fan sensor Fan3B . Lower Critical going low (Reading 0 .lt Threshold 2000 RPM)",
		test:    true,
	})
	checkFields(t, ev,
		"seqno=10000",
		"reading=0",
		"comparison=<",
		"threshold_value=2000",
		"unit=RPM",
	)
}

func TestRFC5424KernelAlarm(t *testing.T) {
	ev := parse5424(t, `<2>1 2026-11-22T05:31:30+00:00 lunapcie kernel - - - k7pf0: [HSM] ALM2007: HSM zeroized`)
	checkHeader(t, ev, header5424{
		time:     time.Date(2026, 11, 22, 5, 31, 30, 0, time.UTC),
		host:     "lunapcie",
		facility: "kern", severity: "crit", process: "kernel",
		message: "k7pf0: [HSM] ALM2007: HSM zeroized",
	})
	// The alarm fields are decodeAlarm's (lunaalarm.go); only check that it ran.
	if got := ev.Fields.Text("alarm_code"); got != "2007" {
		t.Errorf("alarm_code %q, want 2007 (fields %q)", got, fieldList(ev))
	}
}

func TestRFC5424Timestamps(t *testing.T) {
	for _, tc := range []struct {
		ts   string
		want time.Time
		json string
	}{
		{"2026-11-22T05:31:30Z", time.Date(2026, 11, 22, 5, 31, 30, 0, time.UTC), "2026-11-22T05:31:30Z"},
		{"2026-11-22T05:31:30+00:00", time.Date(2026, 11, 22, 5, 31, 30, 0, time.UTC), "2026-11-22T05:31:30Z"},
		{"2026-11-22T05:31:30+01:00", time.Date(2026, 11, 22, 5, 31, 30, 0, time.FixedZone("", 3600)), "2026-11-22T05:31:30+01:00"},
		{"2026-11-22T05:31:30-03:30", time.Date(2026, 11, 22, 5, 31, 30, 0, time.FixedZone("", -12600)), "2026-11-22T05:31:30-03:30"},
		{"2026-11-22T05:31:30.1Z", time.Date(2026, 11, 22, 5, 31, 30, 100000000, time.UTC), "2026-11-22T05:31:30.1Z"},
		{"2026-11-22T05:31:30.123+05:45", time.Date(2026, 11, 22, 5, 31, 30, 123000000, time.FixedZone("", 20700)), "2026-11-22T05:31:30.123+05:45"},
		{"2024-02-29T23:59:59.999999-08:00", time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.FixedZone("", -28800)), "2024-02-29T23:59:59.999999-08:00"},
	} {
		ev := parse5424(t, "<13>1 "+tc.ts+" h app - - - msg")
		_, gotOff := ev.Time.Zone()
		_, wantOff := tc.want.Zone()
		if !ev.Time.Equal(tc.want) || gotOff != wantOff {
			t.Errorf("%s: time %v, want %v", tc.ts, ev.Time, tc.want)
		}
		if js := string(ev.AppendJSON(nil)); !strings.HasPrefix(js, `{"time":"`+tc.json+`",`) {
			t.Errorf("%s: JSON %s", tc.ts, js)
		}
	}
}

func TestRFC5424SDErrorKeepsHeader(t *testing.T) {
	// A sender that leaves STRUCTURED-DATA out: the header is sound, the rest is the message.
	ev := parse5424(t, `<174>1 2026-11-22T05:31:30Z myLuna NTLS 1234 - info : 0 : Starting up NTLS.....`)
	checkHeader(t, ev, header5424{
		time:     time.Date(2026, 11, 22, 5, 31, 30, 0, time.UTC),
		host:     "myLuna",
		facility: "local5", severity: "info", process: "NTLS", pid: 1234,
		message: "info : 0 : Starting up NTLS.....",
	})
	checkFields(t, ev,
		"sd_error=expecting a structured data section containing one or more elements (`[id( key=\"value\")*]+`) or a nil value at byte 48",
		"log_severity=info",
		"error_code=0",
		"description=Starting up NTLS.....",
	)
	// A duplicate SD-ID: no SD field is kept, the SD stays in the message.
	ev = parse5424(t, `<13>1 - h a - - [x@1 a="1"][x@1 b="2"] text`)
	if ev.Message != `[x@1 a="1"][x@1 b="2"] text` {
		t.Errorf("message %q", ev.Message)
	}
	checkFields(t, ev, "sd_error=duplicate structured data element id at byte 32")
}

func TestRFC5424Invalid(t *testing.T) {
	p, err := New(event.SourceRFC5424, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, reason string }{
		{"", "rfc5424: empty line"},
		{`<34>0 - - - - - -`, "rfc5424: expecting a version value in the range 1-999 at byte 5"},
		{`<34>1000 - - - - - -`, "rfc5424: expecting a version value in the range 1-999 at byte 8"},
		{`<192>1 - - - - - -`, "rfc5424: expecting a priority value in the range 1-191 or equal to 0 at byte 4"},
		{`34>1 - - - - - -`, "rfc5424: expecting a priority value within angle brackets at byte 1"},
		{`<34>2x - - - - - -`, `rfc5424: parsing error: unexpected "x" at byte 6`},
		{`<34>1 - - - -`, "rfc5424: truncated header: expecting a procid (from 1 to max 128 US-ASCII characters) or a nil value at the end of the line"},
		{`<34>1 - - - - -`, "rfc5424: truncated header: expecting a msgid (from 1 to max 32 US-ASCII characters) or a nil value at the end of the line"},
		{`<34>1`, "rfc5424: truncated header: parsing error at the end of the line"},
		{`<165>1 2026-11-22 05:31:30Z h a p m - msg`, "rfc5424: expecting a RFC3339MICRO timestamp or a nil value at byte 18"},
		{`<165>1 2026-02-30T23:59:59Z h a p m - msg`, `rfc5424: parsing time "2026-02-30T23:59:59Z": day out of range at byte 28`},
		{"<165>1 2026-11-22T05:31:30Z h\u00e9 a p m - msg", "rfc5424: expecting an hostname (from 1 to max 255 US-ASCII characters) or a nil value at byte 30"},
	} {
		var ev event.Event
		Into(p, tc.line, &ev)
		if ev.Source != event.SourceUnparsed || ev.Reason != tc.reason || ev.Raw != tc.line {
			t.Errorf("%q: source %q reason %q, want unparsed %q", tc.line, ev.Source, ev.Reason, tc.reason)
		}
	}
}

func TestRFC5424Auto(t *testing.T) {
	p, err := New(Auto, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	Into(p, `<165>1 2026-11-22T05:31:30.123+01:00 myLuna NTLS 1234 - - info : 0 : NTLS is online and operational.`, &ev)
	if ev.Source != event.SourceRFC5424 || ev.Host != "myLuna" || ev.Process != "NTLS" || ev.PID != 1234 ||
		ev.Fields.Text("description") != "NTLS is online and operational." {
		t.Errorf("auto: %s", ev.AppendJSON(nil))
	}
	// A BSD line with a PRI stays RFC 3164.
	Into(p, `<165>Nov 22 05:31:30 myLuna NTLS [1234]: info : 0 : NTLS is online and operational.`, &ev)
	if ev.Source != event.SourceRFC3164 {
		t.Errorf("auto picked %q for an RFC 3164 line (%s)", ev.Source, ev.Reason)
	}
}

// TestRFC5424Concurrent shares one parser between goroutines: go-syslog's parser takes a
// lock around its machine, so results must not mix (run with -race).
func TestRFC5424Concurrent(t *testing.T) {
	p, err := New(event.SourceRFC5424, goldenOptions())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			host := "hsm" + string(rune('a'+g))
			line := "<165>1 2026-11-22T05:31:30Z " + host + " NTLS 1234 - [x@1 g=\"" + host + "\"] info : 0 : up"
			var ev event.Event
			for i := 0; i < 200; i++ {
				Into(p, line, &ev)
				if ev.Host != host || ev.Fields.Text("sd.x@1.g") != host || ev.Message != "info : 0 : up" {
					t.Errorf("mixed results: %s", ev.AppendJSON(nil))
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func BenchmarkRFC5424(b *testing.B) {
	p, err := New(event.SourceRFC5424, goldenOptions())
	if err != nil {
		b.Fatal(err)
	}
	line := `<165>1 2026-11-22T05:31:30.123+01:00 myLuna NTLS 1234 - - info : 0xc0000002 : Connection accepted from: 192.168.0.100/40847`
	var ev event.Event
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Into(p, line, &ev)
	}
	if ev.Source != event.SourceRFC5424 {
		b.Fatal(ev.Reason)
	}
}

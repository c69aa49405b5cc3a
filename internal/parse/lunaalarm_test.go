package parse

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// specAlarm is one row of the PCIe guide's "List of HSM Alarm Codes".
type specAlarm struct {
	code  string
	title string // the alarm message, with nn/xx/x made concrete
	temp  int    // expected temperature_c; noTemp when the title has none
}

const noTemp = -1000

// specAlarmTitles maps the first words of each row to the alarm message (the spec's table
// runs message and description together with single spaces, so the split is written here
// once, and checked against the spec: every row must start with its title).
var specAlarmTitles = map[string]string{
	"0001": "Soft tamper - over voltage",
	"0002": "Soft tamper - temperature (nnC)",
	"0003": "Soft tamper - indeterminate cause",
	"0004": "Hard tamper - high temperature",
	"0005": "Hard tamper - low temperature",
	"0006": "Hard tamper - over voltage",
	"0009": "Hard tamper - oscillator failure",
	"0010": "Decommission signal triggered",
	"0011": "Hard tamper - indeterminate cause",
	"0012": "Hardware Error",
	"0013": "High Temperature - nnC",
	"0014": "Low Battery",
	"0015": "PCIe Link Failure",
	"0016": "Device Error",
	"0017": "Request Timed Out",
	"1000": "Unknown alarm ID xx in boot loader",
	"1001": "HSM restart required",
	"1003": "HSM halted - internal boot loader error",
	"1004": "Warning - boot loader diagnostic error",
	"1005": "HSM FW signature check failed",
	"1006": "Soft tamper temperature/voltage",
	"1007": "Hard tamper - high temperature",
	"1008": "Hard tamper - low temperature",
	"1009": "Hard tamper - over voltage",
	"1012": "Hard tamper - oscillator failure",
	"1013": "Hard tamper - tamper configuration invalid",
	"1014": "Chassis opened",
	"1015": "HSM removed from chassis",
	"1016": "Decommission signal triggered",
	"2000": "Unknown alarm ID xx in firmware",
	"2001": "High temperature warning activated",
	"2002": "High temperature warning deactivated",
	"2003": "Battery low voltage warning",
	"2004": "Battery depleted",
	"2005": "HSM deactivated",
	"2006": "HSM decommissioned by FW",
	"2007": "HSM zeroized",
	"2008": "Internal data corruption",
	"2009": "HSM halted - internal firmware error",
	"2010": "HSM locked - tamper clear required",
	"2011": "HSM unlocked - tamper clear done",
	"2012": "HSM in secure transport mode",
	"2013": "HSM recovered from secure transport mode",
	"2014": "Auto-activation data invalid – HSM deactivated",
	"2015": "Hard tamper - high temperature (L3 only)",
	"2016": "Hard tamper - low temperature (L3 only)",
	"2017": "Hard tamper - over voltage (L3 only)",
	"2018": "Hard tamper - oscillator failure (L3 only)",
	"2019": "Hard tamper - tamper configuration invalid (L3 only)",
	"2020": "Chassis opened",
	"2021": "HSM was removed from chassis",
	"2022": "Decommission signal triggered",
	"2023": "HSM fan x failure",
}

// specAlarms reads the alarm codes from the spec: lines that start with four digits and
// a space.
func specAlarms(t *testing.T) []specAlarm {
	t.Helper()
	f, err := os.Open(sharedPath(t, "spec/luna-pcie-alarm-codes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []specAlarm
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 6 || line[4] != ' ' || !isDigit(line[0]) || !isDigit(line[1]) ||
			!isDigit(line[2]) || !isDigit(line[3]) {
			continue
		}
		code := line[:4]
		title, ok := specAlarmTitles[code]
		if !ok {
			t.Fatalf("spec code %s has no title in specAlarmTitles", code)
		}
		if !strings.HasPrefix(line[5:], title) {
			t.Fatalf("spec row %q does not start with the title %q", line, title)
		}
		seen[code] = true
		a := specAlarm{code: code, title: title, temp: noTemp}
		switch {
		case strings.Contains(title, "(nnC)"):
			a.title = strings.Replace(title, "nn", "85", 1)
			a.temp = 85
		case strings.Contains(title, "nnC"):
			a.title = strings.Replace(title, "nn", "82", 1)
			a.temp = 82
		case strings.Contains(title, " xx "):
			a.title = strings.Replace(title, " xx ", " 42 ", 1)
		case strings.Contains(title, " x "):
			a.title = strings.Replace(title, " x ", " 2 ", 1)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// 15 host driver, 14 boot loader and 24 firmware codes.
	if len(out) != 53 || len(seen) != len(specAlarmTitles) {
		t.Fatalf("read %d alarm codes (%d distinct) from the spec, want 53", len(out), len(seen))
	}
	return out
}

func alarmParser(t *testing.T, format string) Parser {
	t.Helper()
	p, err := New(format, Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 5, 31, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantField(t *testing.T, ev *event.Event, key, want string) {
	t.Helper()
	if got, ok := ev.Fields.Get(key); !ok {
		if want != "" {
			t.Errorf("%q: no field %s, want %q", ev.Raw, key, want)
		}
	} else if want == "" {
		t.Errorf("%q: field %s = %q, want none", ev.Raw, key, got.String())
	} else if got.String() != want {
		t.Errorf("%q: field %s = %q, want %q", ev.Raw, key, got.String(), want)
	}
}

// TestAlarmSpecCodes builds every alarm of the spec in every form and checks the fields.
func TestAlarmSpecCodes(t *testing.T) {
	alarm := alarmParser(t, event.SourceLunaAlarm)
	auto := alarmParser(t, Auto)
	epoch := time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC)
	dmesgT := time.Date(2026, 11, 22, 5, 31, 30, 0, time.UTC)
	type form struct {
		name   string
		p      Parser
		tag    string
		prefix string // what precedes the device in the expected message
		source string
		time   time.Time
		uptime string
	}
	forms := []form{
		{name: "bare", p: alarm, source: event.SourceLunaAlarm},
		{name: "HSM", p: alarm, tag: "[HSM] ", source: event.SourceLunaAlarm},
		{name: "hsm", p: alarm, tag: "[hsm] ", source: event.SourceLunaAlarm},
		{name: "dmesg", p: alarm, prefix: "[   12.345678] ", source: event.SourceLunaAlarm, uptime: "12.345678"},
		{name: "dmesg-T", p: alarm, prefix: "[Sun Nov 22 05:31:30 2026] ", tag: "[HSM] ", source: event.SourceLunaAlarm, time: dmesgT},
		{name: "driver", p: alarm, prefix: "1330517101 ", source: event.SourceLunaAlarm, time: epoch},
		{name: "auto-dmesg", p: auto, prefix: "[    0.912000] ", tag: "[HSM] ", source: event.SourceLunaAlarm, uptime: "0.912"},
		{name: "auto-driver", p: auto, prefix: "1330517101.5 ", source: event.SourceLunaAlarm, time: epoch.Add(500 * time.Millisecond)},
		{name: "auto-bare", p: auto, tag: "[HSM] ", source: event.SourceLunaAlarm},
		{name: "syslog", p: auto, prefix: "2012 Feb 29 12:05:01 myLuna kern info kernel: ", tag: "[HSM] ", source: event.SourceLunaSyslog, time: epoch},
		{name: "rfc3164", p: auto, prefix: "Nov 22 05:30:00 hsmhost kernel: ", source: event.SourceRFC3164, time: dmesgT.Add(-90 * time.Second)},
	}
	var ev event.Event
	for _, a := range specAlarms(t) {
		for _, f := range forms {
			msg := "k7pf0: " + f.tag + "ALM" + a.code + ": " + a.title
			line := f.prefix + msg
			Into(f.p, line, &ev)
			if ev.Source != f.source {
				t.Errorf("%s %q: source %q, want %q (reason %q)", f.name, line, ev.Source, f.source, ev.Reason)
				continue
			}
			if !ev.Time.Equal(f.time) {
				t.Errorf("%s %q: time %v, want %v", f.name, line, ev.Time, f.time)
			}
			if ev.Message != msg {
				t.Errorf("%s %q: message %q, want %q", f.name, line, ev.Message, msg)
			}
			wantField(t, &ev, "alarm_code", a.code)
			wantField(t, &ev, "alarm_device", "k7pf0")
			wantField(t, &ev, "alarm_text", a.title)
			wantField(t, &ev, "uptime_s", f.uptime)
			temp := ""
			if a.temp != noTemp {
				temp = map[int]string{82: "82", 85: "85"}[a.temp]
			}
			wantField(t, &ev, "temperature_c", temp)
			if f.source == event.SourceLunaSyslog {
				if ev.Host != "myLuna" || ev.Process != "kernel" || ev.Facility != "kern" || ev.Severity != "info" {
					t.Errorf("%q: header host=%q process=%q facility=%q severity=%q", line, ev.Host, ev.Process, ev.Facility, ev.Severity)
				}
			}
		}
	}
}

// TestAlarmTrapTest is the guide's trap test for a crypto failure on a Luna SA 7.
func TestAlarmTrapTest(t *testing.T) {
	var ev event.Event
	line := "2012 Feb 29 12:05:01 myLuna kern info kernel: ***TEST : k7pf0: [HSM] ALM2007: HSM zeroized"
	Into(alarmParser(t, Auto), line, &ev)
	if ev.Source != event.SourceLunaSyslog || !ev.Test || ev.Message != "k7pf0: [HSM] ALM2007: HSM zeroized" {
		t.Fatalf("source %q test %v message %q reason %q", ev.Source, ev.Test, ev.Message, ev.Reason)
	}
	wantField(t, &ev, "alarm_code", "2007")
	wantField(t, &ev, "alarm_device", "k7pf0")
	wantField(t, &ev, "alarm_text", "HSM zeroized")
	if !ev.Time.Equal(time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC)) {
		t.Errorf("time %v", ev.Time)
	}
}

// TestAlarmDecode covers the variants decodeAlarm accepts and the text it must leave alone.
func TestAlarmDecode(t *testing.T) {
	cases := []struct {
		msg, code, device, text, temp string
	}{
		{"k7pf0: ALM0015: PCIe Link Failure", "0015", "k7pf0", "PCIe Link Failure", ""},
		{"k7pf1: [HSM] ALM0015 : PCIe Link Failure  ", "0015", "k7pf1", "PCIe Link Failure", ""},
		{"ALM0014: Low Battery", "0014", "", "Low Battery", ""},
		{"[HSM] ALM2007: HSM zeroized", "2007", "", "HSM zeroized", ""},
		{"kernel: ALM2007: HSM zeroized", "2007", "", "HSM zeroized", ""},
		{"k7pf0: ALM0013:High Temperature - 90C", "0013", "k7pf0", "High Temperature - 90C", "90"},
		{"k7pf0: ALM0002: Soft tamper - temperature (-5C)", "0002", "k7pf0", "Soft tamper - temperature (-5C)", "-5"},
		{"k7pf0: ALM0002: Soft tamper - temperature (nnC)", "0002", "k7pf0", "Soft tamper - temperature (nnC)", ""},
		{"k7pf0: ALM0014: Low Battery 2.75V", "0014", "k7pf0", "Low Battery 2.75V", ""},
		{"k7pf0: ALM0004: Hard tamper - high temperature 2C3", "0004", "k7pf0", "Hard tamper - high temperature 2C3", ""},
		{"k7pf0: ALM0016:", "0016", "k7pf0", "", ""},
		{"Event 1: PALM0001: x then k7pf0: ALM0017: Request Timed Out", "0017", "k7pf0", "Request Timed Out", ""},
		{"ALM12: x", "", "", "", ""},
		{"ALM00150: x", "", "", "", ""},
		{"ALM0015 x", "", "", "", ""},
		{"ALM0015", "", "", "", ""},
		{"PALM0015: x", "", "", "", ""},
		{"ALMOST: 0015", "", "", "", ""},
		{"", "", "", "", ""},
	}
	for _, c := range cases {
		ev := event.Event{Message: c.msg, Source: "x", Raw: c.msg}
		found := decodeAlarm(&ev)
		if found != (c.code != "") {
			t.Errorf("%q: decodeAlarm = %v", c.msg, found)
		}
		if ev.Message != c.msg || ev.Source != "x" {
			t.Errorf("%q: message or source changed: %q %q", c.msg, ev.Message, ev.Source)
		}
		wantField(t, &ev, "alarm_code", c.code)
		wantField(t, &ev, "alarm_device", c.device)
		wantField(t, &ev, "alarm_text", c.text)
		wantField(t, &ev, "temperature_c", c.temp)
	}
}

// TestAlarmParserForms checks what the luna-alarm parser makes of lines without alarms.
func TestAlarmParserForms(t *testing.T) {
	p := alarmParser(t, event.SourceLunaAlarm)
	cases := []struct {
		line, source, message, uptime string
		time                          time.Time
	}{
		{"[    3.141593] k7pf0: device found at 0000:03:00.0", event.SourceKernel, "k7pf0: device found at 0000:03:00.0", "3.141593", time.Time{}},
		{"[12] usb 1-1: new device", event.SourceKernel, "usb 1-1: new device", "12", time.Time{}},
		{"[Mon Feb 29 12:05:01 2016] e1000e: eth0 NIC Link is Up", event.SourceKernel, "e1000e: eth0 NIC Link is Up", "", time.Date(2016, 2, 29, 12, 5, 1, 0, time.UTC)},
		{"[Tue Mar  3 01:02:03 2026] k7pf0: driver loaded", event.SourceKernel, "k7pf0: driver loaded", "", time.Date(2026, 3, 3, 1, 2, 3, 0, time.UTC)},
		{"1330517101 k7pf0: FW started", event.SourceLunaAlarm, "k7pf0: FW started", "", time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC)},
		{"1330517101.250   k7pf0: ALM2002: High temperature warning deactivated", event.SourceLunaAlarm, "k7pf0: ALM2002: High temperature warning deactivated", "", time.Date(2012, 2, 29, 12, 5, 1, 250e6, time.UTC)},
		{"Error 11/22/2026 k7 k7pf0: ALM0015: PCIe Link Failure", event.SourceLunaAlarm, "Error 11/22/2026 k7 k7pf0: ALM0015: PCIe Link Failure", "", time.Time{}},
	}
	var ev event.Event
	for _, c := range cases {
		Into(p, c.line, &ev)
		if ev.Source != c.source || ev.Message != c.message || !ev.Time.Equal(c.time) {
			t.Errorf("%q: source %q message %q time %v (reason %q), want %q %q %v", c.line, ev.Source, ev.Message, ev.Time, ev.Reason, c.source, c.message, c.time)
		}
		if ev.Process != "" || ev.Host != "" {
			t.Errorf("%q: process %q host %q, want none", c.line, ev.Process, ev.Host)
		}
		wantField(t, &ev, "uptime_s", c.uptime)
	}
	// A dmesg -T time is in the configured zone.
	paris, err := time.LoadLocation("Europe/Paris")
	if err == nil {
		pp, _ := New(event.SourceLunaAlarm, Options{Location: paris})
		Into(pp, "[Sun Nov 22 05:31:30 2026] k7pf0: ALM0015: PCIe Link Failure", &ev)
		if want := time.Date(2026, 11, 22, 4, 31, 30, 0, time.UTC); !ev.Time.Equal(want) {
			t.Errorf("dmesg -T in Europe/Paris: %v, want %v", ev.Time, want)
		}
	}
}

// TestAlarmDamagedPrefixKeepsAlarm: an alarm behind a damaged timestamp is still an
// alarm; the damage is noted in fields.parse_warning rather than losing the alarm.
func TestAlarmDamagedPrefixKeepsAlarm(t *testing.T) {
	p := alarmParser(t, event.SourceLunaAlarm)
	for _, c := range []struct{ line, warning string }{
		{"[ 12.3 k7pf0: ALM0015: PCIe Link Failure", "luna-alarm: dmesg uptime not closed by ']'"},
		{"[Sun Nov 31 05:31:30 2026] k7pf0: ALM0015: PCIe Link Failure", "luna-alarm: no such date: Nov 31"},
		{"1330517101k7pf0: ALM0015: PCIe Link Failure", "luna-alarm: no space after the driver log epoch"},
	} {
		var ev event.Event
		Into(p, c.line, &ev)
		if ev.Source != event.SourceLunaAlarm || !ev.Time.IsZero() {
			t.Errorf("%q: source %q time %v, want luna-alarm without time", c.line, ev.Source, ev.Time)
		}
		wantField(t, &ev, "alarm_code", "0015")
		wantField(t, &ev, "parse_warning", c.warning)
	}
}

// TestAlarmBadInputs: lines the luna-alarm parser must refuse, with the problem named.
func TestAlarmBadInputs(t *testing.T) {
	p := alarmParser(t, event.SourceLunaAlarm)
	cases := []struct{ line, reason string }{
		{"", "empty line"},
		{"   ", "empty line"},
		{"ALM12: x", "no ALMnnnn: alarm code"},
		{"k7pf0: PCIe Link Failure", "no ALMnnnn: alarm code"},
		{"[ 12.3 k7pf0", "dmesg uptime not closed by ']'"},
		{"[12.3.4] k7pf0: x", "dmesg uptime not closed by ']'"},
		{"[Sun Nov 31 05:31:30 2026] k7pf0: x", "no such date: Nov 31"},
		{"[Sun Nov 22 25:31:30 2026] k7pf0: x", "no HH:MM:SS in the dmesg time"},
		{"[Sun Nov 22 05:31:30] k7pf0: x", "no four-digit year in the dmesg time"},
		{"[Sun Nov 22 05:31:30 2026 k7pf0: x", "dmesg time not closed by ']'"},
		{"[Sun Xyz 22 05:31:30 2026] k7pf0: x", "no month name in the dmesg time"},
		{"1330517101", "no space after the driver log epoch"},
		{"12345 k7pf0: FW started", "no ALMnnnn: alarm code"},
		{"[HSM] no alarm here", "no ALMnnnn: alarm code"},
	}
	var ev event.Event
	for _, c := range cases {
		Into(p, c.line, &ev)
		if ev.Source != event.SourceUnparsed || !strings.HasPrefix(ev.Reason, "luna-alarm: "+c.reason) {
			t.Errorf("%q: source %q reason %q, want unparsed with %q", c.line, ev.Source, ev.Reason, c.reason)
		}
		wantField(t, &ev, "alarm_code", "")
		if ev.Raw != c.line {
			t.Errorf("%q: raw %q", c.line, ev.Raw)
		}
	}
}

// TestAlarmAllocs: the happy paths allocate nothing once the event's fields have grown.
func TestAlarmAllocs(t *testing.T) {
	p := alarmParser(t, event.SourceLunaAlarm)
	a := alarmParser(t, Auto)
	lines := []struct {
		p    Parser
		line string
	}{
		{p, "k7pf0: [HSM] ALM0013: High Temperature - 82C  "},
		{p, "[   12.345678] k7pf0: ALM0015: PCIe Link Failure"},
		{p, "[Sun Nov 22 05:31:30 2026] k7pf0: ALM0002: Soft tamper - temperature (85C)"},
		{p, "1330517101.5 k7pf0: ALM2001: High temperature warning activated"},
		{p, "[   12.345678] e1000e: eth0 NIC Link is Up"},
		{a, "2012 Feb 29 12:05:01 myLuna kern info kernel: ***TEST : k7pf0: [HSM] ALM2007: HSM zeroized"},
	}
	var ev event.Event
	for _, l := range lines {
		Into(l.p, l.line, &ev)
		if ev.Source == event.SourceUnparsed {
			t.Fatalf("%q: %s", l.line, ev.Reason)
		}
		if n := testing.AllocsPerRun(100, func() { Into(l.p, l.line, &ev) }); n != 0 {
			t.Errorf("%q: %v allocations per line", l.line, n)
		}
	}
}

func BenchmarkDecodeAlarmNone(b *testing.B) {
	ev := event.Event{Message: "info : 0 : Command: hsm show : admin : 192.168.0.111/2719 and some more text"}
	for b.Loop() {
		decodeAlarm(&ev)
	}
}

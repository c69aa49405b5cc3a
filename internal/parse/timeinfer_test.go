package parse

import (
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

func TestYearInference(t *testing.T) {
	utc := time.UTC
	for _, tc := range []struct {
		name, line string
		ref        time.Time
		want       time.Time
	}{
		{"same year", "Nov 20 10:00:00 h p: m", time.Date(2026, 11, 22, 0, 0, 0, 0, utc), time.Date(2026, 11, 20, 10, 0, 0, 0, utc)},
		{"December read in January", "Dec 31 23:59:59 h p: m", time.Date(2027, 1, 1, 0, 5, 0, 0, utc), time.Date(2026, 12, 31, 23, 59, 59, 0, utc)},
		{"January read on Dec 31 by a slow clock", "Jan  1 00:00:10 h p: m", time.Date(2026, 12, 31, 23, 59, 0, 0, utc), time.Date(2027, 1, 1, 0, 0, 10, 0, utc)},
		{"a few hours ahead is skew", "Nov 22 03:00:00 h p: m", time.Date(2026, 11, 22, 0, 0, 0, 0, utc), time.Date(2026, 11, 22, 3, 0, 0, 0, utc)},
		{"Feb 29 in a leap year", "Feb 29 12:05:01 h p: m", time.Date(2024, 3, 1, 0, 0, 0, 0, utc), time.Date(2024, 2, 29, 12, 5, 1, 0, utc)},
		{"Feb 29 read in a common year", "Feb 29 12:05:01 h p: m", time.Date(2026, 11, 22, 0, 0, 0, 0, utc), time.Date(2024, 2, 29, 12, 5, 1, 0, utc)},
		{"Feb 29 read in Jan of a year after a leap year", "Feb 29 12:05:01 h p: m", time.Date(2025, 1, 10, 0, 0, 0, 0, utc), time.Date(2024, 2, 29, 12, 5, 1, 0, utc)},
		{"year after the day", "Feb 29 2012 12:05:01 h p: m", time.Date(2026, 11, 22, 0, 0, 0, 0, utc), time.Date(2012, 2, 29, 12, 5, 1, 0, utc)},
	} {
		p := newRFC3164(Options{Location: utc, Reference: tc.ref})
		var ev event.Event
		if err := p.Parse(tc.line, &ev); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !ev.Time.Equal(tc.want) {
			t.Errorf("%s: %s read at %s gave %s, want %s", tc.name, tc.line, tc.ref, ev.Time, tc.want)
		}
	}
}

func TestInvalidDates(t *testing.T) {
	p := newLunaSyslog(goldenOptions())
	for _, line := range []string{
		"2013 Feb 29 12:05:01 myLuna local4 notice ipmievd: no Feb 29 in 2013",
		"2012 Feb 30 12:05:01 myLuna local4 notice ipmievd: no Feb 30",
		"2012 Feb 28 24:05:01 myLuna local4 notice ipmievd: hour 24",
		"2012 Foo 28 12:05:01 myLuna local4 notice ipmievd: no month",
		"2012 Feb 28 12:05:01",
	} {
		var ev event.Event
		err := p.Parse(line, &ev)
		if err == nil {
			t.Errorf("accepted %q", line)
			continue
		}
		if _, ok := err.(*Error); !ok || err.Error() == "" {
			t.Errorf("%q: error %v is not a parse error with a reason", line, err)
		}
	}
}

func TestHeaderVariants(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	for _, tc := range []struct {
		line                                string
		source, facility, severity, process string
		pid                                 int
		message                             string
	}{
		{"2012 Feb 29 12:05:01   myLuna   local5   info   NTLS   [1234]: info : 0 : x", event.SourceLunaSyslog, "local5", "info", "NTLS", 1234, "info : 0 : x"},
		{"2012 Feb 29 12:05:01 myLuna local5 info hsm[32081]: x", event.SourceLunaSyslog, "local5", "info", "hsm", 32081, "x"},
		{"2012 Feb 29 12:05:01 myLuna local4 panic ipmievd: x", event.SourceLunaSyslog, "local4", "emerg", "ipmievd", 0, "x"},
		{"2012 Feb 29 12:05:01 myLuna local4 warn ipmievd: x", event.SourceLunaSyslog, "local4", "warning", "ipmievd", 0, "x"},
		{"2012 Feb 29 12:05:01 myLuna local5 info Luna PED Client[77]: x", event.SourceLunaSyslog, "local5", "info", "Luna PED Client", 77, "x"},
		{"Apr 13 14:17:15 172 -lunash: Command: hsm show", event.SourceRFC3164, "", "", "lunash", 0, "Command: hsm show"},
		{"<165>Feb 29 12:05:01 myLuna NTLS [1234]: m", event.SourceRFC3164, "local4", "notice", "NTLS", 1234, "m"},
		{"<13>Feb  9 12:05:01 host kernel: k", event.SourceRFC3164, "user", "notice", "kernel", 0, "k"},
		{"2026-11-22T05:31:30.5+01:00 deb sshd[42]: Accepted", event.SourceRFC3164, "", "", "sshd", 42, "Accepted"},
		{"2012 Feb 29 12:05:01 myLuna local5 info -- MARK --", event.SourceLunaSyslog, "local5", "info", "", 0, "-- MARK --"},
	} {
		var ev event.Event
		Into(p, tc.line, &ev)
		if ev.Source != tc.source || ev.Facility != tc.facility || ev.Severity != tc.severity ||
			ev.Process != tc.process || ev.PID != tc.pid || ev.Message != tc.message {
			t.Errorf("%q\n got  %s %q %q %q %d %q (%s)\n want %s %q %q %q %d %q", tc.line,
				ev.Source, ev.Facility, ev.Severity, ev.Process, ev.PID, ev.Message, ev.Reason,
				tc.source, tc.facility, tc.severity, tc.process, tc.pid, tc.message)
		}
	}
}

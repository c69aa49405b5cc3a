package parse

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

func TestLevelWord(t *testing.T) {
	for word, want := range map[string]string{
		"FATAL": "crit", "CRITICAL": "crit", "crit": "crit", "ERROR": "err", "SEVERE": "err",
		"err": "err", "WARN": "warning", "Warning": "warning", "INFO": "info", "notice": "notice",
		"DEBUG": "debug", "TRACE": "debug", "FINE": "debug", "FINEST": "debug", "panic": "emerg",
		"alert": "alert", "web01": "", "myLuna": "", "ERRORS": "", "in": "", "": "",
		"INFORMATIONALX": "",
	} {
		if got := levelWord(word); got != want {
			t.Errorf("levelWord(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestHostGuard: whatever stands after the time, a level word, a tag, an offset or a
// process never becomes the host, in every format that reads a BSD header.
func TestHostGuard(t *testing.T) {
	for _, format := range []string{Auto, event.SourceRFC3164} {
		p, _ := New(format, goldenOptions())
		for _, tc := range []struct{ line, host, sev, proc string }{
			{"Mar  1 12:00:00 ERROR [hsm] cannot open slot 0", "", "err", ""},
			{"Mar  1 12:00:00 warn ntls: expiring", "", "warning", "ntls"},
			{"Mar  1 12:00:00 [ntls] client gone", "", "", ""},
			{"Mar  1 12:00:00 +0100 hsm1 sshd[4]: ok", "hsm1", "", "sshd"},
			{"Mar  1 12:00:00 -05:00 hsm1 sshd[4]: ok", "hsm1", "", "sshd"},
			{"Mar  1 12:00:00 sshd[4]: ok", "", "", "sshd"},
			{"2024-03-01T12:00:00+0100 hsm1 sshd[4]: ok", "hsm1", "", "sshd"},
		} {
			var ev event.Event
			Into(p, tc.line, &ev)
			if ev.Source == event.SourceUnparsed || ev.Host != tc.host || ev.Severity != tc.sev || ev.Process != tc.proc {
				t.Errorf("%s: %q: source=%s host=%q sev=%q proc=%q (%s), want host=%q sev=%q proc=%q",
					format, tc.line, ev.Source, ev.Host, ev.Severity, ev.Process, ev.Reason, tc.host, tc.sev, tc.proc)
			}
		}
	}
}

// TestNewFormatsAllocateNothing: the new formats keep the parser's promise (strings are
// slices of the line), once the event's fields have their capacity.
func TestNewFormatsAllocateNothing(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	for _, line := range []string{
		"79,12/02/29 16:33:31,S/N 150822 session 1 Access 2147483651:2346 SO -- operation LUNA_LOGIN returned RC_OK(0x00000000)",
		"2024-03-01T12:00:04.123+01:00  INFO 4242 --- [main] c.e.App : Started App",
		"2024-03-01 12:00:00,123 WARN [pool-2-thread-1] c.e.KeyCache - key cache stale",
		"2024-03-01T12:00:00+0100 hsmhost ntls[123]: info : 0 : NTLS is online and operational.",
		`time=2024-03-01T12:00:00Z level=error msg="HSM unreachable" host=hsm1 slot=0`,
		"ntls[1234]: info : 0 : NTLS is online and operational.",
		"sshd(pam_unix)[123]: session closed for user admin",
		"Caused by: java.net.ConnectException: Connection refused",
		`Exception in thread "main" java.security.ProviderException: no token present`,
	} {
		var ev event.Event
		Into(p, line, &ev)
		if ev.Source == event.SourceUnparsed {
			t.Fatalf("%q: %s", line, ev.Reason)
		}
		if n := testing.AllocsPerRun(100, func() { Into(p, line, &ev) }); n != 0 {
			t.Errorf("%q: %v allocations per line", line, n)
		}
	}
}

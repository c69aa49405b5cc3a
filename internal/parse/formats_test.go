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

// TestFacilitySeverityIsNotLuna: the "facility.severity" word is read, and the line stays
// RFC 3164: it is not Luna's header with separate keywords.
func TestFacilitySeverityIsNotLuna(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	var ev event.Event
	Into(p, "Dec 21 06:54:23 ups1 daemon.crit apcupsd[10]: Running on UPS batteries.", &ev)
	if ev.Source != event.SourceRFC3164 || ev.Facility != "daemon" || ev.Severity != "crit" {
		t.Errorf("source %s facility %q severity %q, want rfc3164 daemon crit", ev.Source, ev.Facility, ev.Severity)
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
			// "facility.severity" after the host (syslog-ng, rsyslog templates) or in its
			// place (BusyBox, OpenWrt logread)
			{"Dec 21 06:54:23 ups1 daemon.crit apcupsd[10]: Power failure.", "ups1", "crit", "apcupsd"},
			{"Dec 21 06:54:23 daemon.alert apcupsd[10]: Initiating system shutdown!", "", "alert", "apcupsd"},
			{"Dec 21 06:54:23 ups1 kern.warn kernel: x", "ups1", "warning", "kernel"},
			{"Dec 21 06:54:23 ups1 daemon.loud app[1]: x", "ups1", "", ""},
			// apcupsd's event file: a zone offset, two spaces, the message; with a tag
			// after the wide gap the word is a host all the same
			{"2018-02-12 20:51:49 +0100  Power failure.", "", "", ""},
			{"2018-02-12 20:51:49 +0100  hsm1 sshd[4]: ok", "hsm1", "", "sshd"},
			// a message that starts with a word no host is named, unless a tag follows
			{"Feb 19 18:25:07 failed to initialize device TCTI context: 0xa000a", "", "", ""},
			{"Feb 19 18:25:07 Cannot load certificate using PKCS#11 interface", "", "", ""},
			{"Feb 19 18:25:07 no sshd[4]: ok", "no", "", "sshd"},
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

// TestKernfmtFormatsAllocateNothing: JSON lines, Go's logger, logrus, dmesg --reltime,
// ipmitool SEL rows and OpenSSL error lines cost no allocation either, through auto and
// through their own parser.
func TestKernfmtFormatsAllocateNothing(t *testing.T) {
	auto, _ := New(Auto, goldenOptions())
	for _, tc := range []struct{ format, line string }{
		{event.SourceJSON, `{"level":"error","ts":1709294400.5,"msg":"HSM unreachable","slot":0,"retry":true,"labels":{"a":"b"}}`},
		{event.SourceJSON, `{"@timestamp":"2024-03-01T12:00:00.123Z","log.level":"WARN","message":"retrying","latency":1.5e-3}`},
		{event.SourceGoLog, "2019/04/18 11:05:44 connecting to hsm1:1792"},
		{event.SourceGoLog, "2019/04/18 11:05:44.123456 main.go:42: ERROR slot 0 not present"},
		{event.SourceLogrus, "WARN[0033] slot 0 not present                           hsm=hsm1 slot=0"},
		{event.SourceLogrus, `ERRO[2024-03-01T12:00:00Z] HSM unreachable error="connection refused"`},
		{event.SourceLogfmt, `time="2024-03-01T12:00:00Z" level=warning msg="session pool exhausted" pool=signer`},
		{event.SourceKernel, "[Tue Mar  1 12:00:00 2024] ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen"},
		{event.SourceKernel, "[Feb22 04:01] EXT4-fs (sda1): Remounting filesystem read-only"},
		{event.SourceKernel, "[  +0.000012] ata1.00: failed command: READ FPDMA QUEUED"},
		{event.SourceIPMISEL, "   1 | 03/01/2024 | 12:00:00 | Power Supply PS2 Status | Failure detected | Asserted"},
		{event.SourceIPMISEL, "  1a | Nov-25-2024 | 08:14:02 | Temperature CPU1 Temp | Upper Critical going high | Asserted | Reading 95 > Threshold 90 degrees C"},
		{event.SourceOpenSSL, "139781956970312:error:26096080:engine routines:ENGINE_load_private_key:failed loading private key:eng_pkey.c:124:"},
		{event.SourceOpenSSL, "error:0909006C:PEM routines:get_name:no start line"},
	} {
		own, err := New(tc.format, goldenOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []Parser{auto, own} {
			var ev event.Event
			Into(p, tc.line, &ev)
			if ev.Source != tc.format {
				t.Fatalf("%s: %q: source %q (%s), want %s", p.Format(), tc.line, ev.Source, ev.Reason, tc.format)
			}
			if n := testing.AllocsPerRun(100, func() { Into(p, tc.line, &ev) }); n != 0 {
				t.Errorf("%s: %q: %v allocations per line", p.Format(), tc.line, n)
			}
		}
	}
}

// TestBodyLevelWord: a bare "word: message" whose word is a level (OpenSSH's debug1 to
// debug3 among them) gives the severity, not a process name.
func TestBodyLevelWord(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	for _, tc := range []struct{ line, sev, proc string }{
		{"debug3: userauth_finish: failure partial=0 [preauth]", "debug", ""},
		{"debug1: Connection established.", "debug", ""},
		{"warning: no token URL was provided", "warning", ""},
		{"debug4: x", "", "debug4"},
		{"ata4: SError: { BadCRC }", "", "ata4"},
		{"NoSuchTokenException: No such token: SmartCard-HSM (UserPIN)", "err", ""},
		{"ValueError: invalid literal", "err", ""},
		{"Error: x", "err", ""},
		{"BTRFS CRITICAL: Device 1: generation_errs: 1", "crit", "BTRFS"},
	} {
		var ev event.Event
		Into(p, tc.line, &ev)
		if ev.Source != event.SourceSyslogBody || ev.Severity != tc.sev || ev.Process != tc.proc {
			t.Errorf("%q: source=%s sev=%q proc=%q, want sev=%q proc=%q", tc.line, ev.Source, ev.Severity, ev.Process, tc.sev, tc.proc)
		}
	}
}

// TestJSONHclog: hclog's JSON keys (Vault, Consul) give the level and the message.
func TestJSONHclog(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	var ev event.Event
	Into(p, `{"@level":"error","@message":"failed to revoke lease","@module":"expiration","@timestamp":"2021-07-16T06:30:48.194192Z"}`, &ev)
	if ev.Source != event.SourceJSON || ev.Severity != "err" || ev.Message != "failed to revoke lease" || ev.Time.IsZero() {
		t.Errorf("source=%s sev=%q msg=%q time=%v", ev.Source, ev.Severity, ev.Message, ev.Time)
	}
}

// TestCtimeDmesgLevelsAndKernelHeads: lines that start with ctime's time and year
// (OpenVPN, OpenWrt's logread), dmesg's --raw and --decode heads, and a kernel crash
// report's lines without a bracket are parsed, with the severity they state.
func TestCtimeDmesgLevelsAndKernelHeads(t *testing.T) {
	p, _ := New(Auto, goldenOptions())
	for _, tc := range []struct{ line, source, time, facility, severity, process, message string }{
		{"Tue Jan 14 23:49:34 2020 PKCS#11: Cannot add provider '/usr/lib/x.so'", event.SourceRFC3164,
			"2020-01-14T23:49:34Z", "", "", "", "PKCS#11: Cannot add provider '/usr/lib/x.so'"},
		{"Tue Dec  1 17:07:50 2020 kern.err kernel: [ 1023.7] e1000e eth0: hang", event.SourceRFC3164,
			"2020-12-01T17:07:50Z", "kern", "err", "kernel", "[ 1023.7] e1000e eth0: hang"},
		{"Sat Jul 18 22:54:01 2026 daemon.info upsd[5540]: listening on ::1 port 3493", event.SourceRFC3164,
			"2026-07-18T22:54:01Z", "daemon", "info", "upsd", "listening on ::1 port 3493"},
		{"kern  :warn  : [   12.345678] ata1: link is slow to respond", event.SourceKernel,
			"", "kern", "warning", "", "ata1: link is slow to respond"},
		{"kern  :err   : 2025-01-21T04:41:44,287197+00:00 VFS: file-max limit reached", event.SourceKernel,
			"2025-01-21T04:41:44.287197Z", "kern", "err", "", "VFS: file-max limit reached"},
		{"daemon:info  : [   12.3] x", event.SourceKernel, "", "daemon", "info", "", "x"},
		{"<0>[ 3098.275598] Kernel panic - not syncing: Fatal exception", event.SourceKernel,
			"", "kern", "emerg", "", "Kernel panic - not syncing: Fatal exception"},
		{"Oops: 0002 [#1] PREEMPT SMP", event.SourceKernel, "", "", "", "", "Oops: 0002 [#1] PREEMPT SMP"},
		{"divide error: 0000 [#1] SMP", event.SourceKernel, "", "", "", "", "divide error: 0000 [#1] SMP"},
		// a sentence about a failure names no process
		{"Failed: No key available for purpose: signKey", event.SourceSyslogBody, "", "", "", "", "Failed: No key available for purpose: signKey"},
		// not these: a wrong weekday's date, a facility without dmesg's padding
		{"Mon Jan 14 23:49:34 2020x ok", event.SourceUnparsed, "", "", "", "", ""},
		{"user: info: hello", event.SourceSyslogBody, "", "", "", "user", "info: hello"},
	} {
		var ev event.Event
		Into(p, tc.line, &ev)
		got := ""
		if !ev.Time.IsZero() {
			got = ev.Time.UTC().Format("2006-01-02T15:04:05.999999Z")
		}
		if ev.Source != tc.source || got != tc.time || ev.Facility != tc.facility || ev.Severity != tc.severity ||
			ev.Process != tc.process || (tc.message != "" && ev.Message != tc.message) || ev.Raw != tc.line {
			t.Errorf("%q:\n got source %s time %q facility %q severity %q process %q message %q raw %q",
				tc.line, ev.Source, got, ev.Facility, ev.Severity, ev.Process, ev.Message, ev.Raw)
		}
	}
}

package classify

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// TestFloorUnknownProcess: a line no rule knows takes its level from the sender's severity
// or a level word, with class unclassified and a floor rule id.
func TestFloorUnknownProcess(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct{ line, rule, level string }{
		{"2012 Feb 29 12:05:01 myLuna daemon crit foo[1]: hello", "floor.severity.crit", "critical"},
		{"<10>Nov 22 05:31:30 web01 foo[1]: hello", "floor.severity.crit", "critical"},
		{"<11>Nov 22 05:31:30 web01 foo[1]: could not open socket", "floor.severity.err", "major"},
		{"<12>Nov 22 05:31:30 web01 foo[1]: disk 91% full", "floor.severity.warning", "warning"},
		{"<13>Nov 22 05:31:30 web01 foo[1]: hello", "floor.severity.notice", "info"},
		{"<15>Nov 22 05:31:30 web01 foo[1]: hello", "floor.severity.debug", "debug"},
		{"Nov 22 05:31:30 web01 foo[1]: hello", "floor.severity.none", "info"},
		// words: at the start, after bracketed tags, higher than the severity wins
		{"<14>Nov 22 05:31:30 web01 foo[1]: [main] FATAL cannot start", "floor.word.fatal", "critical"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: [1234.5] [pool] ERROR: x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: WARN slow", "floor.word.warning", "warning"},
		{"<10>Nov 22 05:31:30 web01 foo[1]: WARN slow", "floor.severity.crit", "critical"},
		// a word elsewhere, or glued to more letters, is no level word
		{"<14>Nov 22 05:31:30 web01 foo[1]: no ERROR here", "floor.severity.info", "info"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: ERRORS=0 WARNINGS=0", "floor.severity.info", "info"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: Errata applied", "floor.severity.info", "info"},
		// a level word as a whole tag, after the program's own time stamp and separators
		{"<14>Nov 22 05:31:30 web01 foo[1]: [ERROR] x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: <E> x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: [main/WARN] x", "floor.word.warning", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: [ FATAL ] x", "floor.word.fatal", "critical"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: 2024-03-01 12:00:00,123 ERROR [main] x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: 12:00:00.123 | WARN | x", "floor.word.warning", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: SEVERE: x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: 01-Mar-2024 12:00:00.123 SEVERE [main] x", "floor.word.error", "major"},
		// ... but a trouble word anywhere (not negated, not a key) raises to warning
		{"<14>Nov 22 05:31:30 web01 foo[1]: 3-way ERROR x", "floor.trouble", "warning"},
		{"Nov 22 05:31:30 web01 foo[1]: upload of report.csv failed", "floor.trouble", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: the link was not lost", "floor.severity.info", "info"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: failed=0 retried=2", "floor.severity.info", "info"},
		{"<15>Nov 22 05:31:30 web01 foo[1]: attempt 1 failed, retrying", "floor.severity.debug", "debug"},
		{"<11>Nov 22 05:31:30 web01 foo[1]: upload failed", "floor.severity.err", "major"},
		// beside an HSM or PKCS#11 context, in any case, a failure is major
		{"Nov 22 05:31:30 web01 foo[1]: connection to the Luna HSM lost", "floor.trouble.hsm", "major"},
		{"Nov 22 05:31:30 web01 foo[1]: unable to load PKCS11 provider", "floor.trouble.hsm", "major"},
		{"Nov 22 05:31:30 web01 foo[1]: OAuth token refresh failed", "floor.trouble", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: [Fri Mar 01 12:00:00.1 2024] [core:error] [pid 1] x", "floor.word.error", "major"},
		// glog/klog heads: the letter
		{"<14>Nov 22 05:31:30 web01 foo[1]: E0612 12:34:56.789012    1234 x.go:1] boom", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: W0612 12:34:56.789012    1234 x.go:1] slow", "floor.word.warning", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: I0612 12:34:56.789012    1234 x.go:1] Error budget", "floor.word.info", "info"},
		// level keys anywhere, any case, quoted or not
		{"<14>Nov 22 05:31:30 web01 foo[1]: ts=1 level=error msg=x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: ts=1 lvl=eror msg=x", "floor.word.error", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: {\"time\":1,\"level\":\"WARN\",\"msg\":\"x\"}", "floor.word.warning", "warning"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: finding severity: High host=a", "floor.value.major", "major"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: log.level=fatal x", "floor.word.fatal", "critical"},
		// a level the message states itself, even info or debug, wins over a trouble word
		{"<14>Nov 22 05:31:30 web01 foo[1]: ts=1 level=info msg=\"error seen\"", "floor.word.info", "info"},
		{"Nov 22 05:31:30 web01 foo[1]: DEBUG attempt 1 failed", "floor.word.debug", "debug"},
		{"<14>Nov 22 05:31:30 web01 foo[1]: sublevel=error x", "floor.trouble", "warning"},
		// a level word followed by = is a key
		{"<14>Nov 22 05:31:30 web01 foo[1]: error=0 warning=0", "floor.severity.info", "info"},
		// unhandled exceptions
		{"<14>Nov 22 05:31:30 web01 foo[1]: Traceback (most recent call last):", "floor.word.exception", "major"},
	} {
		ev := parsed(t, tc.line)
		r := c.Classify(ev)
		if r == nil || ev.Rule != tc.rule || ev.Level != tc.level || ev.Class != event.ClassUnclassified {
			t.Errorf("%s: rule %q level %q class %q, want %s %s unclassified", tc.line, ev.Rule, ev.Level, ev.Class, tc.rule, tc.level)
		}
		if ev.Component != "" {
			t.Errorf("%s: component %q, want none", tc.line, ev.Component)
		}
	}
}

// TestFloorRaisesCatchAll: a catch-all rule keeps its id and component and takes the
// floor's level when higher, naming the floor in the field "floor"; never lower.
func TestFloorRaisesCatchAll(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct{ line, rule, component, level, floor string }{
		{"2012 Feb 29 12:05:01 myLuna local6 err oamp[2100]: ERR: Some undocumented HSM event", "luna.oamp.unknown", "hsm-event-log", "major", "floor.word.error"},
		{"2012 Feb 29 12:05:01 myLuna local6 crit oamp[2100]: Some undocumented HSM event", "luna.oamp.unknown", "hsm-event-log", "critical", "floor.severity.crit"},
		{"2012 Feb 29 12:05:01 myLuna local6 info oamp[2100]: INFO: Some undocumented HSM event", "luna.oamp.unknown", "hsm-event-log", "info", ""},
		{"2012 Feb 29 12:05:01 myLuna local6 debug oamp[2100]: Some undocumented HSM event", "luna.oamp.unknown", "hsm-event-log", "info", ""},
		{"2012 Feb 29 12:05:01 myLuna local4 warning ipmievd: a message no release has written yet", "luna.ipmi.unknown", "ipmi", "warning", "floor.severity.warning"},
	} {
		ev := parsed(t, tc.line)
		c.Classify(ev)
		if ev.Rule != tc.rule || ev.Component != tc.component || ev.Level != tc.level || ev.Fields.Text("floor") != tc.floor {
			t.Errorf("%s: %s %s %s floor=%q, want %s %s %s floor=%q", tc.line, ev.Rule, ev.Component, ev.Level,
				ev.Fields.Text("floor"), tc.rule, tc.component, tc.level, tc.floor)
		}
	}
}

// TestFloorOverride: an operator's file replaces a floor row by id and adds rows; a bad
// row fails the load with file:line.
func TestFloorOverride(t *testing.T) {
	dir := t.TempDir()
	text := "floor:\n  - id: floor.severity.err\n    severity: err\n    level: major\n  - id: floor.word.oops\n    words: [OOPS]\n    level: warning\n"
	if err := os.WriteFile(filepath.Join(dir, "floor.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ev := parsed(t, "<11>Nov 22 05:31:30 web01 foo[1]: could not open socket")
	if c.Classify(ev); ev.Rule != "floor.severity.err" || ev.Level != "major" {
		t.Errorf("replaced row: %s %s", ev.Rule, ev.Level)
	}
	ev = parsed(t, "<14>Nov 22 05:31:30 web01 foo[1]: OOPS it broke")
	if c.Classify(ev); ev.Rule != "floor.word.oops" || ev.Level != "warning" {
		t.Errorf("added row: %s %s", ev.Rule, ev.Level)
	}
	if n := len(c.Floor()); n != len(shippedCatalog(t).Floor())+1 {
		t.Errorf("%d floor rows", n)
	}
	for _, tc := range []struct{ text, want string }{
		{"floor:\n  - id: floor.x\n    level: info\n", "floor.yaml:2: floor entry floor.x: give either severity, words (tags, values), states or anywhere"},
		{"floor:\n  - id: x\n    severity: err\n    level: info\n", "id must start with \"floor.\""},
		{"floor:\n  - id: floor.x\n    severity: err\n    with: [hsm]\n    level: info\n", "with belongs to a row of anywhere words"},
		{"floor:\n  - id: floor.x\n    anywhere: [oops]\n    with: [HSM]\n    level: info\n", "lower case"},
		{"floor:\n  - id: floor.x\n    severity: loud\n    level: info\n", "severity \"loud\""},
		{"floor:\n  - id: floor.x\n    severity: err\n    level: loud\n", "level \"loud\""},
		{"floor:\n  - id: floor.x\n    severity: err\n    level: info\n    colour: red\n", "floor.yaml:5: field colour not found (unknown key)"},
	} {
		os.WriteFile(filepath.Join(dir, "floor.yaml"), []byte(tc.text), 0o644)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// TestShippedFloorCoversEverySeverity: the shipped table has a row for every severity.
func TestShippedFloorCoversEverySeverity(t *testing.T) {
	c := shippedCatalog(t)
	for _, s := range []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "none"} {
		if c.floor.bySeverity[severityIndex(s)] == nil {
			t.Errorf("no floor row for severity %s", s)
		}
	}
	for _, r := range c.Floor() {
		if len(r.Examples) == 0 {
			t.Errorf("%s: floor row %s has no example line", r.Origin, r.ID)
		}
	}
}

// TestProcessVariants: a rule written for sshd matches sshd(pam_unix), SSHD and
// /usr/sbin/sshd.
func TestProcessVariants(t *testing.T) {
	c := catalogFrom(t, `
rules:
  - id: t.sshd.any
    component: ssh
    level: info
    priority: -100
    match: {process: [sshd]}
  - id: t.sshd.session
    component: ssh
    level: info
    match: {process: [SSHD], contains: ["session opened"]}
`)
	for _, tc := range []struct{ line, rule string }{
		{"Nov 22 05:31:30 web01 sshd(pam_unix)[20412]: session opened for user root by (uid=0)", "t.sshd.session"},
		{"Nov 22 05:31:30 web01 SSHD[20412]: session opened for user root by (uid=0)", "t.sshd.session"},
		{"Nov 22 05:31:30 web01 /usr/sbin/sshd[20412]: session opened for user root by (uid=0)", "t.sshd.session"},
		{"Nov 22 05:31:30 web01 sshd(pam_unix)[20412]: something else", "t.sshd.any"},
	} {
		ev := parsed(t, tc.line)
		if r := c.Classify(ev); r == nil || r.ID != tc.rule {
			t.Errorf("%s (process %q): rule %v, want %s", tc.line, ev.Process, r, tc.rule)
		}
	}
	if r := c.Classify(parsed(t, "Nov 22 05:31:30 web01 sshdx[1]: session opened")); r != nil {
		t.Errorf("sshdx matched %s", r.ID)
	}
}

// TestContainsAny: one of the literals suffices; each is an anchor.
func TestContainsAny(t *testing.T) {
	c := catalogFrom(t, `
rules:
  - id: t.tamper
    component: hsm
    level: major
    match: {contains_any: [tamper, Tamper, TAMPER]}
  - id: t.both
    component: hsm
    level: major
    match: {contains: [disk], contains_any: [failed, FAILED]}
`)
	for line, want := range map[string]string{
		"Nov 22 05:31:30 web01 foo[1]: Tamper event 2":    "t.tamper",
		"Nov 22 05:31:30 web01 foo[1]: TAMPER":            "t.tamper",
		"Nov 22 05:31:30 web01 foo[1]: anti-tamper armed": "t.tamper",
		"Nov 22 05:31:30 web01 foo[1]: disk check FAILED": "t.both",
		"Nov 22 05:31:30 web01 foo[1]: disk check passed": "",
		"Nov 22 05:31:30 web01 foo[1]: TaMpEr":            "",
	} {
		got := ""
		if r := c.Classify(parsed(t, line)); r != nil {
			got = r.ID
		}
		if got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
}

// TestFloorFollowsTheGuide: the floor reads the severities err and warning as the
// catalog's specific rules read the Luna guide's lines of that severity (the level most of
// them get), so that an unknown message of a known sender is neither louder nor quieter
// than its documented neighbours.
func TestFloorFollowsTheGuide(t *testing.T) {
	c := shippedCatalog(t)
	byLevel := map[string]map[string]int{}
	for _, ex := range testutil.ReadJSONL[guideExample](t, "corpus/luna-guide-examples.jsonl") {
		ev := parsed(t, ex.Line)
		r := c.Classify(ev)
		if r == nil || r.floorEntry != nil || r.Floor || ev.Severity == "" {
			continue // the floor itself and the catch-alls are what is being checked
		}
		if byLevel[ev.Severity] == nil {
			byLevel[ev.Severity] = map[string]int{}
		}
		byLevel[ev.Severity][ev.Level]++
	}
	for _, sev := range []string{"err", "warning"} {
		mode, most := "", 0
		for level, n := range byLevel[sev] {
			if n > most || (n == most && event.LevelRank(level) > event.LevelRank(mode)) {
				mode, most = level, n
			}
		}
		ev := parsed(t, "<"+map[string]string{"err": "11", "warning": "12"}[sev]+">Nov 22 05:31:30 web01 foo[1]: an unknown message")
		c.Classify(ev)
		if ev.Level != mode {
			t.Errorf("severity %s: the floor gives %s, the guide's lines of that severity are mostly %s (%v)", sev, ev.Level, mode, byLevel[sev])
		}
	}
}

// FuzzFloorWord: the floor's reading of a message never panics and, when it finds a
// level, finds one of the table's rows.
func FuzzFloorWord(f *testing.F) {
	c, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	rows := map[*Rule]bool{}
	for _, r := range c.Floor() {
		rows[r] = true
	}
	for _, s := range []string{
		"", "[", "<", "=", ":", "\"", "[ERROR] x", "<E> x", "E0612 12:34:56.789012 1 a.go:1] x",
		"2024-03-01 12:00:00,123 | WARN | x", "01-Mar-2024 12:00:00.123 SEVERE [main] x",
		"ts=1 level=error msg=x", "{\"level\":\"warn\"}", "severity: high", "error=0", "[core:error] x",
		"level=", "\"level\":", "lvl=eror", "[main/WARN]", "- - | ERROR",
		"#INFO# x", "#", "##", "#WARNING", "a[error] 1", "a[error] 1 x", "a b[info] 12  x", "[error] 1 x", "a[", "a[]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if r := c.floor.word(msg); r != nil && !rows[r] {
			t.Fatalf("%q: rule %s is no floor row", msg, r.ID)
		}
	})
}

// TestFloorWordAfterNumbers: a process id or milliseconds beside the program's time
// stamp are skipped on the way to the level word; a bare count alone is not.
func TestFloorWordAfterNumbers(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct{ msg, rule string }{
		{"7340 2022-10-30 10:48:06.397 debug1: could not open the file", "floor.word.debug"},
		{"1452 22:08:47 213 ERROR: bad fd", "floor.word.error"},
		{"12", "floor.severity.none"},
		{"12 ", "floor.severity.none"},
		{"3 ERROR records skipped", "floor.trouble"},
	} {
		ev := &event.Event{Source: event.SourceRFC3164, Message: tc.msg}
		if c.Classify(ev); ev.Rule != tc.rule {
			t.Errorf("%q: rule %s, want %s", tc.msg, ev.Rule, tc.rule)
		}
	}
}

// FuzzTroubleWord: reading trouble words never panics, and a word it reports is in the
// message.
func FuzzTroubleWord(f *testing.F) {
	for _, s := range []string{"upload failed", "no errors", "failed=0", "0 failed", "was not lost", "\"error\" = 1", "failed", "x failed"} {
		f.Add(s)
	}
	words := []string{"failed", "error", "lost", "I/O error"}
	f.Fuzz(func(t *testing.T, msg string) {
		if troubleWord(msg, words) {
			found := false
			for _, w := range words {
				found = found || strings.Contains(msg, w)
			}
			if !found {
				t.Fatalf("%q: trouble word reported, none in the message", msg)
			}
		}
	})
}

// TestFloorReadings: the readings of the floor that decide between a level the sender
// stated and a word of its text.
func TestFloorReadings(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct {
		name, source, severity, process, msg, rule string
	}{
		{"the first stated level wins", event.SourceRFC3164, "", "ocspd",
			"[token.c:2562] [DEBUG] ERROR, can not load directory /etc/x", "floor.word.debug"},
		{"a level in capitals after capital columns", event.SourceRFC3164, "", "someapp",
			"- 1118772927 2005.06.14 R27-M0-N6 2005-06-14-11.15.27.823191 R27-M0-N6 RAS KERNEL FATAL rts internal error", "floor.word.fatal"},
		{"a level in capitals after columns with numbers", event.SourceRFC3164, "", "someapp",
			"081109 203615 INFO dfs.DataNode: block received, lookup failed once", "floor.word.info"},
		{"a negated level in capitals is none", event.SourceRFC3164, "", "someapp",
			"DISK CHECK NO ERROR FOUND", "floor.severity.none"},
		{"a small letter ends the head", event.SourceRFC3164, "", "someapp",
			"GET request ERROR page served", "floor.trouble"},
		{"a participle takes the negation", event.SourceKernel, "", "",
			"[ 17.3] somedrv: operation not supported error on queue 2", "floor.trouble"},
		{"a negation still counts", event.SourceKernel, "", "",
			"[ 17.3] somedrv: link was not lost during the reset", "floor.severity.none"},
		{"an application's own INFO keeps it", event.SourceAppLog, "info", "",
			"[CommitProcessor:1] - Expiring session 0x24e, timeout of 10000ms exceeded", "floor.severity.info"},
		{"a syslog info does not keep it", event.SourceRFC3164, "info", "someapp",
			"session 0x24e expired, the client timed out", "floor.trouble"},
		{"a state change to Down counts over a stated notice", event.SourceRFC3164, "notice", "Bfd",
			"%BFD-5-STATE_CHANGE: peer 10.1.1.2 changed state from Up to Down diag None", "floor.trouble.down"},
		{"but not over a stated debug", event.SourceRFC3164, "debug", "lacpd",
			"ae3: member xe-0/0/1 went down", "floor.severity.debug"},
		{"an operator's shutdown is no outage", event.SourceRFC3164, "notice", "ethport",
			"%ETHPORT-5-IF_DOWN_ADMIN_DOWN: Interface Ethernet1/9 is down (Administratively down)", "floor.severity.notice"},
		{"a fault is trouble, a fan's a device's", event.SourceRFC3164, "", "envmon",
			"Fan 2 Fault ON", "floor.trouble.device"},
		{"a zero after a name numbers the thing", event.SourceRFC3164, "", "envmon",
			"PSU 0 fault LED on", "floor.trouble.device"},
		{"a zero before a participle counts none", event.SourceRFC3164, "", "backup",
			"checked 5 disks, 0 failed", "floor.severity.none"},
		{"a zero after with counts none", event.SourceRFC3164, "", "backup",
			"sync done with 0 error", "floor.severity.none"},
		{"a faulty battery is a device's trouble", event.SourceRFC3164, "", "upsd",
			"replace the faulty battery pack in bay 2", "floor.trouble.device"},
		{"a fault that went off is quiet", event.SourceRFC3164, "", "envmon",
			"Fan 0 Fault OFF", "floor.quiet.up"},
		{"a connection reestablished is quiet", event.SourceRFC3164, "warning", "certsrv",
			"The directory connection to dc1 has been reestablished after an error", "floor.quiet.up"},
		{"a link that came up is quiet whatever its severity", event.SourceRFC3164, "err", "ifmgr",
			"%LINK-3-UPDOWN: Interface Gi1/0/3, changed state to up", "floor.quiet.up"},
		{"a failed login is quiet over a stated error", event.SourceRFC3164, "", "adguard",
			"[error] POST /control/login: invalid credentials for admin", "floor.quiet.login"},
		{"a failed login to a token is not", event.SourceRFC3164, "", "signer",
			"login failed: token in slot 2 rejected the PIN", "floor.trouble.hsm"},
		{"a Nagios state", event.SourceKernel, "", "",
			"SERVICE ALERT: gw1;disk /var;CRITICAL;HARD;3;DISK CRITICAL - free space: /var 120 MB (2%)", "floor.state.critical"},
		{"a Nagios notification names its contact first", event.SourceKernel, "", "",
			"HOST NOTIFICATION: admin;gw1;DOWN;host-notify-by-email;PING CRITICAL", "floor.state.critical"},
		{"a Nagios OK", event.SourceKernel, "", "",
			"SERVICE ALERT: gw1;ntls;OK;HARD;3;TCP OK", "floor.state.ok"},
		{"a failed certificate", event.SourceRFC3164, "", "openvpn",
			"CRL of CN=Fleet CA has expired; rejecting client 10.1.1.9", "floor.trouble.certificate"},
		{"a slab allocator's BUG", event.SourceKernel, "", "",
			"[  299.281634] BUG kmalloc-4096 (Tainted: G    I ): Poison overwritten", "floor.trouble.crash"},
		{"the process names the context", event.SourceSyslogBody, "", "p11-kit",
			"vendor: module failed to initialize", "floor.trouble.hsm"},
		{"a key store names the context", event.SourceRFC3164, "", "signer",
			"unable to open the keystore /etc/signer/ks.p12", "floor.trouble.keys"},
		{"a disk driver names the context", event.SourceKernel, "", "",
			"[ 1730.4] nvme nvme0: failed to mark controller CONNECTING", "floor.trouble.storage"},
		{"a bus's error reporting names the context", event.SourceKernel, "", "",
			"[ 1730.4] pcieport 0000:00:1c.0: AER: device recovery failed", "floor.trouble.device"},
		{"errno EIO is a hardware error", event.SourceRFC3164, "", "someapp",
			"journal update ended with Error -5", "floor.trouble.hardware"},
		{"a panic is a crash", event.SourceRFC3164, "", "storaged",
			"a domain panic has occurred on volume vol7", "floor.trouble.crash"},
		{"GLib's head", event.SourceRFC3164, "", "someapp",
			"** (someapp:3873): CRITICAL **: init_thread_func: no device", "floor.word.critical"},
		{"a host and a tag left in the message", event.SourceRFC3164, "", "",
			"server1 hp-ams[xxxx]: CRITICAL: Automatic shutdown initiated", "floor.word.critical"},
		{"Pacemaker's crit:", event.SourceRFC3164, "", "pacemaker-controld",
			" crit: node lost its peers", "floor.word.critical"},
		{"unable alone", event.SourceRFC3164, "", "someapp",
			"Unable get the object", "floor.trouble"},
		{"a level among a tag's words", event.SourceRFC3164, "", "yubihsm",
			"[P11 - ERR 11:41:59.204728] util_pkcs11.c:3856 (get_session): Session user not logged in", "floor.word.error"},
		{"a frame of a stack trace", event.SourceRFC3164, "", "node",
			"    at Error (native) C_GetTokenInfo:243", "floor.severity.none"},
		{"an IPMI condition that ended", event.SourceRFC3164, "", "ipmitool",
			"166 | PS2 FAIL | Voltage | 'State Deasserted'", "floor.severity.none"},
		{"a Cisco mnemonic's severity", event.SourceRFC3164, "", "",
			"88: *Mar  1 12:00:00.000: %SYS-3-CPUHOG: Task is running for (2004)msecs", "floor.severity.err"},
		{"a mnemonic's severity with a subfacility", event.SourceRFC3164, "", "",
			"2023 Mar  1 12:00:00 UTC: %EARL-SW1_SP-1-PARITY_WARN: parity found in TCAM", "floor.severity.alert"},
		{"a mnemonic's info keeps a trouble word quiet", event.SourceRFC3164, "", "",
			"12: %SEC-6-IPACCESSLOGP: list 101 denied tcp 192.0.2.4(1034) -> 198.51.100.2(22), 1 packet", "floor.severity.info"},
		{"a firewall's mnemonic rates traffic, not the system", event.SourceRFC3164, "", "",
			"%ASA-2-106001: Inbound TCP connection denied from 192.0.2.4/1034 to 198.51.100.2/22 flags SYN on interface outside", "floor.trouble"},
		{"a percent sign is no mnemonic", event.SourceRFC3164, "", "df",
			"/var at 91%-3-full: check", "floor.severity.none"},
		{"a stated warning rises with a context", event.SourceRFC3164, "", "vault",
			"[WARN]  core: failed to unseal core: no stored keys", "floor.trouble.keys"},
		{"a stated warning stays without one", event.SourceRFC3164, "", "someapp",
			"[WARN] export failed, retrying", "floor.word.warning"},
		{"a stated info keeps a context quiet", event.SourceRFC3164, "", "vault",
			"[INFO]  core: unseal failed once, retrying with the next key", "floor.word.info"},
		{"log15's EROR", event.SourceSyslogBody, "", "",
			"EROR[03-01|12:00:00] sync stopped", "floor.word.error"},
		{"no space left is a storage error", event.SourceRFC3164, "", "rsyslogd",
			"cannot extend /srv/spool/batch.7: ENOSPC", "floor.trouble.hardware"},
		{"an assertion that failed is a crash", event.SourceRFC3164, "", "signer",
			"signer: session.c:88: p11_open: Assertion `slot != NULL' failed.", "floor.trouble.crash"},
		{"PostgreSQL's LOG after its prefix", event.SourceRFC3164, "", "",
			"2025-03-01 12:00:00.123 UTC [4242] app@db LOG:  could not receive data from client: Connection reset by peer", "floor.severity.info"},
		{"PostgreSQL's csvlog level", event.SourceRFC3164, "", "",
			`UTC,"app","db",42,"10.0.0.1:5555",65e1,3,"idle",2024-03-01 11:00:00 UTC,3/0,0,PANIC,XX000,"could not write to file",,,,,,,,,""`, "floor.severity.crit"},
		{"Greenplum's quoted csvlog level", event.SourceRFC3164, "", "",
			`CST,,,p1822,th-2143479936,,,,0,,,seg-1,,,,,"LOG","00000","checkpoint starting: time",,,,,,,0,,"xlog.c",7946,`, "floor.severity.info"},
		{"PostgreSQL's PANIC", event.SourceRFC3164, "", "postgres",
			"2025-03-01 12:00:00.123 UTC [4242] app@db PANIC:  could not write to file \"pg_wal/xlogtemp.4242\"", "floor.severity.crit"},
		{"PostgreSQL's FATAL ends a session", event.SourceRFC3164, "", "",
			"2025-03-01 12:00:00 UTC [4242]: [1-1] app@db FATAL:  role \"x\" does not exist", "floor.severity.warning"},
		{"one space is no PostgreSQL level", event.SourceRFC3164, "", "someapp",
			"job LOG: export failed", "floor.trouble"},
		{"debug in small letters", event.SourceRFC3164, "", "someapp",
			"[3399321] 2021-09-22 19:36:02 debug copy: failed once, retrying", "floor.word.debug"},
		{"unresponsive beside a card", event.SourceSyslogBody, "", "pcscd",
			"Card state: Card inserted, Unresponsive card,", "floor.trouble.hsm"},
		{"a failure beside a network card's driver", event.SourceKernel, "", "",
			"[ 9001.000001] i40e 0000:3b:00.1: VF reset failed to complete", "floor.trouble.device"},
		{"Serilog's and Ceph's WRN", event.SourceRFC3164, "", "someapp",
			"2026-03-01 12:00:00 [WRN] cache refresh slow", "floor.word.warning"},
		{"Serilog's INF keeps a trouble word quiet", event.SourceRFC3164, "", "",
			"[12:00:00 INF] scrub of pg 2.1f failed once, retrying", "floor.word.info"},
		{"Windows' Information column", event.SourceSyslogBody, "", "",
			"Information 3/1/2026 12:00:00 PM Service Control Manager 7036 None", "floor.word.info"},
		{"a call-trace frame names no level", event.SourceKernel, "", "",
			" panic+0x15c/0x33b", "floor.severity.none"},
		{"a level between hashes", event.SourceRFC3164, "", "",
			"#INFO# session of peer 192.0.2.9 failed once, retrying", "floor.word.info"},
		{"a hash that is no level", event.SourceRFC3164, "", "someapp",
			"#42# job failed", "floor.trouble"},
		{"a sensor back to normal from a failure", event.SourceRFC3164, "", "omsa",
			"Voltage probe returned to normal Previous state was: Critical (Failed)", "floor.quiet.up"},
		{"a Windows event's type", event.SourceRFC3164, "", "",
			"nt-host/nt-host MSExchangeIS[error] 9646  Mapi session exceeded the maximum of 500 objects", "floor.word.error"},
		{"a Windows event's type after a source of two words", event.SourceRFC3164, "", "",
			"Server Administrator[info] 1353  Report job 7 failed once, retried", "floor.word.info"},
		{"a process id is no type", event.SourceRFC3164, "", "",
			"worker[1234] 55 jobs failed", "floor.trouble"},
		{"a firewall's alert about itself", event.SourceRFC3164, "", "",
			"%ASA-1-104001: (Secondary) Switching to ACTIVE - mate want me Active", "floor.severity.alert"},
		{"a firewall's alert about a packet", event.SourceRFC3164, "", "",
			"%ASA-1-106021: Deny TCP reverse path check from 198.51.100.7 to 192.0.2.1 on interface outside", "floor.severity.none"},
		{"a firewall's critical is a packet's", event.SourceRFC3164, "", "",
			"%ASA-2-106006: Deny inbound UDP from 198.51.100.7/53 to 192.0.2.1/53 on interface outside", "floor.severity.none"},
		{"an application's Hardware name: is no kernel report", event.SourceRFC3164, "", "someapp",
			"Hardware name: unknown, lookup timed out", "floor.trouble"},
		{"an undefined symbol beside PKCS#11", event.SourceRFC3164, "", "someapp",
			"/usr/lib/x86_64-linux-gnu/pkcs11/vendor.so: undefined symbol: C_GetInterface", "floor.trouble.hsm"},
	} {
		ev := &event.Event{Source: tc.source, Severity: tc.severity, Process: tc.process, Message: tc.msg}
		if c.Classify(ev); ev.Rule != tc.rule {
			t.Errorf("%s: %q: rule %s, want %s", tc.name, tc.msg, ev.Rule, tc.rule)
		}
	}
}

// TestFloorBootWindow: a kernel line of the first seconds after boot raises only by the
// rows marked boot (hardware errors, crashes); later, every trouble row counts.
func TestFloorBootWindow(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct {
		uptime float64
		msg    string
		rule   string
	}{
		{0.8, "pcieport 0000:e0:1c.4: can't derive routing for PCI INT A", "floor.severity.none"},
		{0.8, "somedrv 0000:03:00.0: uncorrectable ECC fault on bank 2", "floor.trouble.hardware"},
		{4000, "pcieport 0000:e0:1c.4: can't derive routing for PCI INT A", "floor.trouble.device"},
		{4.4, "JBD2: journal recovery failed on sdb1", "floor.trouble.storage"},
	} {
		ev := &event.Event{Source: event.SourceKernel, Message: tc.msg}
		ev.Fields.SetFloat("uptime_s", tc.uptime)
		if c.Classify(ev); ev.Rule != tc.rule {
			t.Errorf("%.1f s: %q: rule %s, want %s", tc.uptime, tc.msg, ev.Rule, tc.rule)
		}
	}
}

// TestFloorReadsErrorField: a structured record's error field is read with its message:
// JSON and logfmt loggers put what failed there, not in msg.
func TestFloorReadsErrorField(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct {
		source, key, value, rule string
	}{
		{event.SourceJSON, "error", "x509: certificate has expired or is not yet valid", "floor.trouble.certificate"},
		{event.SourceLogfmt, "err", "signing failed: private key not loaded", "floor.trouble.keys"},
		{event.SourceJSON, "error", "", "floor.severity.warning"},
		// a syslog line's fields are what its parser found, not its logger's error
		{event.SourceRFC3164, "error", "x509: certificate has expired", "floor.severity.warning"},
	} {
		ev := &event.Event{Source: tc.source, Severity: "warning", Message: "rejected connection"}
		ev.Fields.SetString(tc.key, tc.value)
		if c.Classify(ev); ev.Rule != tc.rule {
			t.Errorf("%s %s=%q: rule %s, want %s", tc.source, tc.key, tc.value, ev.Rule, tc.rule)
		}
	}
}

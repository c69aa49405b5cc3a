package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeLog(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.log")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	infoLine    = "2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719\n"
	warnLine    = "2026 Nov 22 10:01:00 lunaA local5 warn certmonitord[1234]: warning : 0 : NTLS certificate is missing\n"
	psuFailLine = "2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted\n"
	psuOKLine   = "2026 Nov 22 10:03:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted\n"
)

func TestCheckLog(t *testing.T) {
	cases := []struct {
		name, log string
		args      []string
		code      int
		want      []string
	}{
		{"ok", infoLine + infoLine, nil, 0,
			[]string{"OK: no alarm open, 0 significant events (0 critical or major) in 2 lines | lines=2c significant=0;0;;0 critical_events=0;;0;0 open_alarms=0;;;0 stale_alarms=0;;;0 unparsed=0;;;0"}},
		{"warning event", infoLine + warnLine, nil, 1, []string{"WARNING: no alarm open, 1 significant event (0 critical or major) in 2 lines"}},
		{"warning event within -w", infoLine + warnLine, []string{"-w", "1"}, 0, []string{"OK: no alarm open, 1 significant event"}},
		{"open critical alarm", infoLine + psuFailLine, []string{"-c", "5", "-w", "5"}, 2,
			[]string{"CRITICAL: 1 alarm open (1 critical or major; 0 stale), first: PSU2_Status on lunaA: "}},
		{"cleared alarm, events within range", psuFailLine + psuOKLine, []string{"-c", "5", "-w", "5"}, 0, []string{"OK: no alarm open, 2 significant events (2 critical or major) in 2 lines"}},
		{"cleared alarm, critical events", psuFailLine + psuOKLine, nil, 2, []string{"CRITICAL: no alarm open, 2 significant events (2 critical or major)"}},
		{"verbose lists alarms", psuFailLine, []string{"-v", "-c", "5", "-w", "5"}, 2,
			[]string{"\nopen: critical lunaA PSU2_Status since 2026-11-22T10:02:00Z: ", "\nseen 1×: critical lunaA luna.ipmi.psu-discrete-state: Power Supply sensor PSU2_Status"}},
		{"ignored", psuFailLine, []string{"--ignore", "luna.ipmi.*"}, 0, []string{"OK: no alarm open, 0 significant events (0 critical or major) in 1 line"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeLog(t, c.log)
			args := append([]string{"check", "log", "--tz", "UTC", p}, c.args...)
			code, out, errOut := runCLI(t, "", args...)
			if code != c.code || errOut != "" {
				t.Fatalf("exit %d (want %d), stderr %q, stdout:\n%s", code, c.code, errOut, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestCheckLogUnknown(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.log")
	code, out, errOut := runCLI(t, "", "check", "log", missing)
	if code != 3 || errOut != "" || !strings.HasPrefix(out, "UNKNOWN: cannot read ") || !strings.Contains(out, "nope.log") {
		t.Fatalf("missing file: exit %d stdout %q stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "check", "log", "-w", "x:y", missing)
	if code != 3 || !strings.HasPrefix(out, "UNKNOWN: warning threshold") {
		t.Fatalf("bad range: exit %d %q", code, out)
	}
	code, out, _ = runCLI(t, "", "check", "log")
	if code != 3 || !strings.HasPrefix(out, "UNKNOWN: give the log files") {
		t.Fatalf("no file: exit %d %q", code, out)
	}
}

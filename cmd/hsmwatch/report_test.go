package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small record whose report is known: a power supply that failed two days before the
// end (stale), a fan that dropped and recovered (closed), a temperature alarm still open
// (active), an ssh line (ignored with --ignore), and a Dinamo session with a gap.
const reportLog = `2026 Nov 20 08:00:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted
2026 Nov 22 09:00:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)
2026 Nov 22 09:05:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 2400 > Threshold 2000 RPM)
2026 Nov 22 09:30:00 lunaB kern info kernel: k7pf0: [HSM] ALM2001: High temperature warning activated
2026 Nov 22 09:40:00 lunaB authpriv warn  sshd[1234]: error: Received disconnect from 192.168.0.100: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]
2026/11/22 09:50:00 00000052 00000001 EE4E6C03 10.1.1.7 auth try, c: 21, tls: y, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:00 00000052 00000002 EE4E6C03 master auth ok, 10.1.1.7, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:01 00000052 00000009 EE4E6C03 new key k1, t: 6, a: 0, c: 21|10.1.1.7 172.17.0.2:4433 master
2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719
`

func writeReportLog(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.log")
	if err := os.WriteFile(p, []byte(reportLog), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanReportText(t *testing.T) {
	p := writeReportLog(t)
	code, out, errOut := runCLI(t, "", "scan", "--tz", "UTC", "--report", "--ignore", "luna.ssh.*", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"hsmwatch report: 9 events (0 unparsed, 1 ignored), end of record 2026-11-22T10:00:00Z",
		"alarms: 3 opened, 1 cleared, 2 still open (1 stale)",
		"STALE ALARMS (open 1d0h or more, never cleared): 1",
		"ACTIVE ALARMS: 1",
		"DINAMO LOG INTEGRITY: 1 findings",
		"6 events missing between counter 2 and 9",
		"DINAMO SESSIONS: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	stale := section(out, "STALE ALARMS")
	if !strings.Contains(stale, "PSU2_Status") || !strings.Contains(stale, "2d2h") {
		t.Errorf("stale section: %s", stale)
	}
	if active := section(out, "ACTIVE ALARMS"); !strings.Contains(active, "k7pf0/high-temperature") || strings.Contains(active, "Fan3B") {
		t.Errorf("active section: %s", active)
	}
	if strings.Contains(out, "sshd") || strings.Contains(out, "JSchException") {
		t.Errorf("an ignored event is in the report:\n%s", out)
	}
	sessions := section(out, "DINAMO SESSIONS")
	for _, want := range []string{"EE4E6C03", "10.1.1.7", "master", " ok ", "k1", "new-key×1"} {
		if !strings.Contains(sessions, want) {
			t.Errorf("sessions lack %q: %s", want, sessions)
		}
	}
}

func TestScanReportJSON(t *testing.T) {
	p := writeReportLog(t)
	code, out, errOut := runCLI(t, "", "scan", "--tz", "UTC", "--report=json", "--stale-after", "72h", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Events   int64 `json:"events"`
		Stale    []struct{ Key string }
		Active   []struct{ Key, Host string } `json:"active_alarms"`
		Frequent []struct {
			Rule  string
			Count int64
		} `json:"frequent_significant"`
		Findings []struct {
			Kind    string
			Missing int64
		} `json:"dinamo_findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Events != 9 || len(r.Stale) != 0 || len(r.Active) != 2 {
		t.Fatalf("with --stale-after 72h nothing is stale: %+v", r)
	}
	if len(r.Findings) != 1 || r.Findings[0].Kind != "gap" || r.Findings[0].Missing != 6 {
		t.Errorf("findings: %+v", r.Findings)
	}
	for _, f := range r.Frequent {
		if strings.HasPrefix(f.Rule, "luna.lunash") {
			t.Errorf("an info event is listed as significant: %+v", f)
		}
	}
	if code, _, errOut := runCLI(t, "", "scan", "--report=xml", p); code != 2 || !strings.Contains(errOut, "--report \"xml\"") {
		t.Errorf("bad --report: exit %d %s", code, errOut)
	}
}

// section returns the report text from the line starting with title to the next blank line.
func section(out, title string) string {
	i := strings.Index(out, "\n"+title)
	if i < 0 {
		return ""
	}
	s := out[i+1:]
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestScanReportHTML: --report=html writes one page with the text report's totals, a
// timeline per host and the alarms' spans, and nothing that loads from elsewhere.
func TestScanReportHTML(t *testing.T) {
	p := writeReportLog(t)
	code, out, errOut := runCLI(t, "", "scan", "--tz", "UTC", "--report=html", "--ignore", "luna.ssh.*", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Content-Security-Policy", "default-src 'none'",
		"hsmwatch report: 9 events (0 unparsed, 1 ignored), end of record 2026-11-22T10:00:00Z",
		"alarms: 3 opened, 1 cleared, 2 still open (1 stale)",
		`aria-label="events of lunaA over time"`, `<svg class="spans"`, "PSU2_Status", "k7pf0/high-temperature", "EE4E6C03"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "sshd"} {
		if strings.Contains(out, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if code, _, errOut := runCLI(t, "", "scan", "--report=pdf", p); code == 0 || !strings.Contains(errOut, "use text, json or html") {
		t.Errorf("--report=pdf: exit %d, %s", code, errOut)
	}
}

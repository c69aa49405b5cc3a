package report_test

import (
	"bytes"
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/report"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// smallLog is a record whose report holds every section: a stale power supply alarm, a
// fan that dropped and recovered, a temperature alarm open at the end, a Dinamo session
// with a counter gap, and a log clear.
const smallLog = `2026 Nov 20 08:00:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted
2026 Nov 22 09:00:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)
2026 Nov 22 09:05:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 2400 > Threshold 2000 RPM)
2026 Nov 22 09:30:00 lunaB kern info kernel: k7pf0: [HSM] ALM2001: High temperature warning activated
2026/11/22 09:50:00 00000052 00000001 EE4E6C03 10.1.1.7 auth try, c: 21, tls: y, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:00 00000052 00000002 EE4E6C03 master auth ok, 10.1.1.7, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:01 00000052 00000009 EE4E6C03 new key k1, t: 6, a: 0, c: 21|10.1.1.7 172.17.0.2:4433 master
2026/11/22 09:55:00 0000004C 0000017C A575C340 log truncated|172.17.0.1 172.17.0.2:4433 master
2026/11/22 09:55:00 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master
2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719
`

// scanned scans log as hsmwatch scan --report does and returns the report, the timeline
// and the catalog.
func scanned(t *testing.T, log string) (report.Report, *report.Timeline, *classify.Catalog) {
	t.Helper()
	// A relative name: the page shows where each fact was read, the same in every run.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "export.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	p := "export.log"
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	tl := report.NewTimeline()
	o := scan.Options{Location: time.UTC, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Catalog: cat, State: tr, Observed: tl.Observe}
	if _, err := scan.Run(context.Background(), o, []string{p}, strings.NewReader(""), discard{}); err != nil {
		t.Fatal(err)
	}
	return report.Build(tr, report.Options{StaleAfter: 24 * time.Hour}), tl, cat
}

type discard struct{}

func (discard) Write(*event.Event) error { return nil }
func (discard) Flush() error             { return nil }

func htmlOf(t *testing.T, r report.Report, tl *report.Timeline, cat *classify.Catalog) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteHTML(&b, report.HTMLOptions{Timeline: tl, Rules: cat, Inputs: []string{"export.log"}}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTMLGolden: the page for the small record is the golden file (go test
// ./internal/report -run Golden -update rewrites it after a deliberate change).
func TestHTMLGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "small.golden.html"))
	if err != nil {
		t.Fatal(err)
	}
	r, tl, cat := scanned(t, smallLog)
	got := htmlOf(t, r, tl, cat)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the HTML report differs from %s (run with -update after a deliberate change)", golden)
	}
}

var tags = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)

// pageText is what a reader sees: the page without its tags, entities decoded, spaces
// collapsed.
func pageText(page string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(page, " "))), " ")
}

// TestHTMLFactsEqualText: every line of facts the text report prints is on the HTML
// page: the totals, each stale and active alarm, each frequent event, each Dinamo finding
// and session, with the same values.
func TestHTMLFactsEqualText(t *testing.T) {
	r, tl, cat := scanned(t, smallLog)
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	seen := pageText(htmlOf(t, r, tl, cat))
	upper := strings.ToUpper(seen)
	colNames := regexp.MustCompile(`^[A-Z ]+$`)
	var facts int
	for _, l := range strings.Split(text.String(), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		switch {
		case l == "" || colNames.MatchString(l): // a table's column names
			continue
		case strings.Contains(upper, strings.ToUpper(l)): // a title or a line of totals, whole
			facts++
			continue
		}
		// A row: every column's value is on the page (clipped examples by their start).
		for _, cell := range regexp.MustCompile(`\s{2,}`).Split(rawLine(text.String(), l), -1) {
			cell = strings.TrimSuffix(strings.TrimSpace(cell), "…")
			if cell == "-" || cell == "" {
				continue
			}
			if !strings.Contains(seen, cell) {
				t.Errorf("the page lacks %q of the text report's row %q", cell, l)
			}
			facts++
		}
	}
	if facts < 40 {
		t.Errorf("only %d facts compared: the text report lost its sections?\n%s", facts, text.String())
	}
	// The drawings: a timeline per host, a bar per alarm.
	page := htmlOf(t, r, tl, cat)
	for _, h := range []string{"lunaA", "lunaB", "172.17.0.2"} {
		if !strings.Contains(page, `aria-label="events of `+h+` over time"`) {
			t.Errorf("no timeline of %s", h)
		}
	}
	if n := len(tl.Spans()); n != int(r.AlarmsOpened) || strings.Count(page, "<title>") != n+countBars(page)+1 {
		t.Errorf("%d spans for %d alarms opened; %d titles", n, r.AlarmsOpened, strings.Count(page, "<title>"))
	}
}

// rawLine is the line of text whose spaces collapse to l (its columns still apart).
func rawLine(text, l string) string {
	for _, raw := range strings.Split(text, "\n") {
		if strings.Join(strings.Fields(raw), " ") == l {
			return raw
		}
	}
	return l
}

func countBars(page string) int {
	i := strings.Index(page, `class="timeline"`)
	j := strings.Index(page, `class="spans"`)
	if i < 0 || j < 0 {
		return 0
	}
	return strings.Count(page[i:j], "<title>")
}

// hostile is a record whose hosts, messages, users and keys carry markup.
const hostile = `2026 Nov 22 09:00:00 <script>alert(1)</script> local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM) <img src=x onerror=alert(2)>
2026 Nov 22 09:01:00 evil"host local5 crit NTLS [12]: info : 0 : NTLS CRASH AND BURN! "><svg onload=alert(3)><a href="javascript:alert(4)">x</a>
2026/11/22 09:50:00 00000052 00000001 EE4E6C03 10.1.1.7 auth try, c: 21, tls: y, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:00 00000052 00000002 EE4E6C03 <b>master</b> auth ok, 10.1.1.7, 2|10.1.1.7 172.17.0.2:4433 -
2026/11/22 09:50:01 00000052 00000009 EE4E6C03 new key </td><script>alert(5)</script>, t: 6, a: 0, c: 21|10.1.1.7 172.17.0.2:4433 master
`

// TestHTMLEscapesHostileInput: markup in the logs is shown as text, never as markup.
func TestHTMLEscapesHostileInput(t *testing.T) {
	r, tl, cat := scanned(t, hostile)
	page := htmlOf(t, r, tl, cat)
	for _, bad := range []string{"<script", "<img", "<svg onload", "<a href", "<b>master", "</td><script"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page holds %q from the logs", bad)
		}
	}
	for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(page, -1) {
		if l := strings.ToLower(tag); strings.Contains(l, "javascript:") || strings.Contains(l, "onerror") || strings.Contains(l, "onload") {
			t.Errorf("a tag carries the logs' script: %s", tag)
		}
	}
	seen := pageText(page)
	for _, want := range []string{"<img src=x onerror=alert(2)>", `"><svg onload=alert(3)>`} {
		if !strings.Contains(seen, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	if n, want := strings.Count(page, "<svg"), strings.Count(page, `<svg class="timeline"`)+strings.Count(page, `<svg class="spans"`); n != want || want < 2 {
		t.Errorf("%d svg elements, want the report's own %d (at least a timeline and the spans)", n, want)
	}
}

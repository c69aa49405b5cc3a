package logcheck_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/logcheck"
	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

const (
	infoLine    = "2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719\n"
	psuFailLine = "2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted\n"
	psuOKLine   = "2026 Nov 22 10:03:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted\n"
)

// run checks a log of text with the ranges warn and crit.
func run(t *testing.T, text, warn, crit string, details bool) check.Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.log")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{StaleAfter: 24 * time.Hour}, cat)
	if err != nil {
		t.Fatal(err)
	}
	th, err := check.ParseThreshold(warn, crit)
	if err != nil {
		t.Fatal(err)
	}
	o := scan.Options{Location: time.UTC, Now: time.Now(), SkipIgnored: true, Catalog: cat, State: tr}
	return logcheck.Result(context.Background(), o, th, []string{p}, details)
}

func TestResult(t *testing.T) {
	r := run(t, infoLine+infoLine, "0", "0", false)
	if r.Status != check.OK || r.Summary != "no alarm open, 0 significant events (0 critical or major) in 2 lines" || len(r.Long) != 0 {
		t.Errorf("got %+v", r)
	}
	if len(r.Perf) != 6 || r.Perf[0].Label != "lines" || r.Perf[0].Value != 2 {
		t.Errorf("perf %+v", r.Perf)
	}
	// An open critical alarm is CRITICAL whatever the ranges; -v lists it.
	r = run(t, infoLine+psuFailLine, "5", "5", true)
	if r.Status != check.Critical || !strings.HasPrefix(r.Summary, "1 alarm open (1 critical or major; 0 stale), first: PSU2_Status on lunaA: ") {
		t.Errorf("got %v %q", r.Status, r.Summary)
	}
	if len(r.Long) != 2 || !strings.HasPrefix(r.Long[0], "open: critical lunaA PSU2_Status since 2026-11-22T10:02:00Z: ") ||
		!strings.HasPrefix(r.Long[1], "seen 1×: critical lunaA luna.ipmi.psu-discrete-state: ") {
		t.Errorf("long %q", r.Long)
	}
	// Cleared: only the count of critical events against -c decides.
	if r := run(t, psuFailLine+psuOKLine, "5", "5", false); r.Status != check.OK {
		t.Errorf("within the ranges: %v %q", r.Status, r.Summary)
	}
	if r := run(t, psuFailLine+psuOKLine, "5", "1", false); r.Status != check.Critical {
		t.Errorf("2 critical events outside -c 1: %v %q", r.Status, r.Summary)
	}
}

func TestResultUnreadable(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	o := scan.Options{Location: time.UTC, Now: time.Now(), Catalog: cat, State: tr}
	missing := filepath.Join(t.TempDir(), "nope.log")
	r := logcheck.Result(context.Background(), o, check.Threshold{}, []string{missing}, false)
	if r.Status != check.Unknown || !strings.HasPrefix(r.Summary, "cannot read ") || !strings.Contains(r.Summary, "nope.log") {
		t.Errorf("got %+v", r)
	}
}

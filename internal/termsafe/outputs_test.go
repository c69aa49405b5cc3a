package termsafe_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/report"
	"github.com/hsmwatch/hsmwatch/internal/sink/table"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// evil is a host name an attacker put in a syslog header: it would turn the terminal
// red and, with the CR, overwrite the start of the line.
const evil = "luna\x1b[31m-evil\rOK \u009b2J"

// noControls fails when out holds a control character other than the layout's own
// newlines and tabs (tab only where allowTab: there it separates the columns).
func noControls(t *testing.T, what, out string, allowTab bool) {
	t.Helper()
	for _, r := range out {
		if r == '\n' || (allowTab && r == '\t') {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			t.Errorf("%s: control character %U in output:\n%q", what, r, out)
			return
		}
	}
	if !strings.Contains(out, `luna\x1b[31m-evil\rOK \u009b2J`) {
		t.Errorf("%s: the host name is not shown escaped:\n%q", what, out)
	}
}

func TestScanTable(t *testing.T) {
	var b bytes.Buffer
	w := table.New(&b)
	ev := &event.Event{Time: time.Unix(0, 0).UTC(), Host: evil, Process: evil, Message: "msg " + evil}
	if err := w.Write(ev); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	noControls(t, "scan --output table", b.String(), false)
}

func TestReport(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	r := report.Report{At: at,
		Active:   []state.Alarm{{Host: evil, Level: "major", Opened: at, Key: evil, Title: evil, Input: evil}},
		Frequent: []state.Count{{Count: 2, Host: evil, Level: "major", Rule: "r", First: at, Last: at, Example: evil}},
		Repeats:  []state.Repeat{{Count: 3, Host: evil, First: at, Last: at, Message: evil}},
		Storms:   []state.Storm{{Host: evil, Start: at, End: at}},
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	noControls(t, "scan --report", b.String(), false) // tabwriter turned the tabs into spaces
}

func TestCheckVerbose(t *testing.T) {
	var b bytes.Buffer
	check.Result{Status: check.Critical, Summary: "host " + evil, Long: []string{"event from " + evil}}.Write(&b)
	out := b.String()
	// The summary's CR becomes a space (one line for Nagios); the long text keeps it escaped.
	if strings.ContainsAny(out, "\x1b\r\u009b") {
		t.Errorf("check output holds control characters:\n%q", out)
	}
	if !strings.Contains(out, `event from luna\x1b[31m-evil\rOK \u009b2J`) {
		t.Errorf("check -v long output not escaped:\n%q", out)
	}
}

func TestTextLogs(t *testing.T) {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("event", "host", evil)
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r\u009b") {
		t.Errorf("text log holds control characters:\n%q", out)
	}
}

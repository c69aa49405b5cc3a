// Package logcheck is hsmwatch check log: exported HSM logs scanned and classified,
// judged as a Nagios/Icinga plugin by the alarms still open and the events counted.
package logcheck

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// counts is what the check counts while the log streams past: it is the scan's sink.
type counts struct {
	significant, severe, unparsed int64
}

func (c *counts) Write(ev *event.Event) error {
	if ev.Source == event.SourceUnparsed {
		c.unparsed++
	}
	if ev.Significant() {
		c.significant++
		if ev.Level == "critical" || ev.Level == "major" {
			c.severe++
		}
	}
	return nil
}

func (c *counts) Flush() error { return nil }

// Result scans files with o (its State keeps the alarms) and judges them: an open
// critical or major alarm is CRITICAL, any other open alarm a WARNING; th.Crit applies to
// the number of critical and major events, th.Warn to the significant ones. details adds
// the open alarms and the most frequent events as the long text (-v).
func Result(ctx context.Context, o scan.Options, th check.Threshold, files []string, details bool) check.Result {
	var c counts
	sum, err := scan.Run(ctx, o, files, strings.NewReader(""), &c)
	if err != nil {
		return check.Unknownf("%v", err)
	}
	if len(sum.Failed) > 0 {
		return check.Unknownf("cannot read %v; check the path and the permissions", sum.Failed[0])
	}
	active := o.State.Active()
	stale := o.State.Stale(o.State.Now())
	openSevere := 0
	for _, al := range active {
		if al.Level == "critical" || al.Level == "major" {
			openSevere++
		}
	}
	status := judge(c, th, len(active), openSevere)
	r := check.Result{Status: status, Summary: logSummary(c, sum.Lines, active, stale, openSevere)}
	r.Perf = []check.Perfdata{
		{Label: "lines", Value: float64(sum.Lines), UOM: "c"},
		{Label: "significant", Value: float64(c.significant), Warn: th.Warn, Min: check.Float(0)},
		{Label: "critical_events", Value: float64(c.severe), Crit: th.Crit, Min: check.Float(0)},
		{Label: "open_alarms", Value: float64(len(active)), Min: check.Float(0)},
		{Label: "stale_alarms", Value: float64(len(stale)), Min: check.Float(0)},
		{Label: "unparsed", Value: float64(c.unparsed), Min: check.Float(0)},
	}
	if details {
		r.Long = logDetails(o.State, active, stale)
	}
	return r
}

// judge is the status: the open alarms first, then the events counted against th.
func judge(c counts, th check.Threshold, open, openSevere int) check.Status {
	status := check.OK
	switch {
	case openSevere > 0:
		status = check.Critical
	case open > 0:
		status = check.Warning
	}
	if th.Crit != nil && th.Crit.Alert(float64(c.severe)) {
		status = check.Critical
	}
	if status == check.OK && th.Warn != nil && th.Warn.Alert(float64(c.significant)) {
		status = check.Warning
	}
	return status
}

func logSummary(c counts, lines int64, active, stale []state.Alarm, openSevere int) string {
	var parts []string
	switch len(active) {
	case 0:
		parts = append(parts, "no alarm open")
	default:
		first := active[0]
		for _, al := range active {
			if al.Level == "critical" || al.Level == "major" {
				first = al
				break
			}
		}
		s := fmt.Sprintf("%d %s open (%d critical or major; %d stale), first: %s on %s: %s",
			len(active), plural(len(active), "alarm", "alarms"), openSevere, len(stale), first.Key, dash(first.Host), first.Title)
		parts = append(parts, s)
	}
	parts = append(parts, fmt.Sprintf("%d significant %s (%d critical or major) in %d %s",
		c.significant, plural(int(c.significant), "event", "events"), c.severe, lines, plural(int(lines), "line", "lines")))
	return strings.Join(parts, ", ")
}

// logDetails lists the open alarms, then the most frequent significant events.
func logDetails(tr *state.Tracker, active, stale []state.Alarm) []string {
	isStale := map[string]bool{}
	for _, al := range stale {
		isStale[al.Host+"\x00"+al.Key] = true
	}
	var out []string
	for _, al := range active {
		mark := ""
		if isStale[al.Host+"\x00"+al.Key] {
			mark = " [stale]"
		}
		out = append(out, fmt.Sprintf("open: %s %s %s since %s: %s%s (%s)", al.Level, dash(al.Host), al.Key,
			al.Opened.Format(time.RFC3339), al.Title, mark, al.Input))
	}
	counts := tr.Counts()
	sort.SliceStable(counts, func(i, j int) bool { return counts[i].Count > counts[j].Count })
	n := 0
	for _, c := range counts {
		if !c.Significant || n == 10 {
			continue
		}
		n++
		out = append(out, fmt.Sprintf("seen %d×: %s %s %s: %s", c.Count, dash(c.Level), dash(c.Host), c.Rule, c.Example))
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

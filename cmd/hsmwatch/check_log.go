package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

type logCheckFlags struct {
	since, warn, crit, timeout, tz string
	rules, ignore                  []string
	staleAfter                     time.Duration
	verbose                        int
}

func (a *app) checkLogCommand() *cobra.Command {
	var f logCheckFlags
	cmd := &cobra.Command{
		Use:   "log FILE... [--since 24h] [-w 0] [-c 0] [--ignore RULEGLOB]... [-v] [-t 10]",
		Short: "Check exported HSM logs: open alarms and significant events",
		Long: `log reads exported HSM logs (plain, .gz, .zip) the way scan does, classifies every line,
keeps the alarms' state and reports as a Nagios/Icinga plugin:

  CRITICAL when an alarm of level critical or major is still open at the end of the log,
           or when the number of critical or major events is outside -c (default 0: any);
  WARNING  when any other alarm is still open, or when the number of significant events
           (warning and above, trap notifications, alarm changes) is outside -w (default 0);
  UNKNOWN  when an input cannot be read.

-w and -c take Monitoring Plugins ranges ("5" means more than 5; "@1:3" inside 1..3).
--since keeps the events at or after a time (RFC 3339, a date, or a duration such as 24h).
-v lists the open alarms and the most frequent significant events after the first line.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return a.checkUsage(c, fmt.Errorf("give the log files to check"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.checkLog(cmd.Context(), f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "count only events at or after this time (RFC 3339, 2006-01-02, or a duration such as 24h)")
	fl.StringVarP(&f.warn, "warning", "w", "0", "WARNING when the number of significant events is outside this range")
	fl.StringVarP(&f.crit, "critical", "c", "0", "CRITICAL when the number of critical or major events is outside this range")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule file or folder added to the shipped catalog (repeatable)")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "ignore the events of rules matching this glob, such as luna.ssh.* (repeatable)")
	fl.DurationVar(&f.staleAfter, "stale-after", 24*time.Hour, "an alarm open this long is reported as stale")
	fl.StringVar(&f.tz, "tz", "Local", "time zone of timestamps written without an offset")
	fl.CountVarP(&f.verbose, "verbose", "v", "-v: list open alarms and frequent events")
	fl.StringVarP(&f.timeout, "timeout", "t", "10", "seconds before the check gives up (N:STATE reports STATE instead of UNKNOWN)")
	return cmd
}

func (a *app) checkLog(ctx context.Context, f logCheckFlags, files []string) error {
	o, th, to, err := f.options()
	if err != nil {
		check.Unknownf("%v (see hsmwatch check log --help)", err).Write(a.stdout)
		return exitError{code: int(check.Unknown)}
	}
	res := to.Run(ctx, func(ctx context.Context) check.Result {
		return logResult(ctx, o, th, files, f.verbose)
	}, nil)
	return exitStatus(res.Write(a.stdout))
}

func (f logCheckFlags) options() (scan.Options, check.Threshold, check.Timeout, error) {
	var o scan.Options
	th, err := check.ParseThreshold(f.warn, f.crit)
	if err != nil {
		return o, th, check.Timeout{}, err
	}
	to, err := check.ParseTimeout(f.timeout)
	if err != nil {
		return o, th, to, err
	}
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return o, th, to, fmt.Errorf("--tz %q: %w", f.tz, err)
	}
	now := time.Now()
	o = scan.Options{Location: loc, Now: now, SkipIgnored: true}
	if f.since != "" {
		if o.Since, err = scan.ParseTime(f.since, now, loc); err != nil {
			return o, th, to, fmt.Errorf("--since: %w", err)
		}
	}
	if o.Catalog, err = classify.Load(f.rules...); err != nil {
		return o, th, to, fmt.Errorf("rules: %w", err)
	}
	cfg := state.Config{StaleAfter: f.staleAfter}
	for _, g := range f.ignore {
		cfg.Ignore = append(cfg.Ignore, state.Ignore{Rule: g, Reason: "--ignore " + g})
	}
	if o.State, err = state.New(cfg, o.Catalog); err != nil {
		return o, th, to, fmt.Errorf("--ignore: %w", err)
	}
	return o, th, to, nil
}

// logCounts is what the check counts while the log streams past.
type logCounts struct {
	significant, severe, unparsed int64
}

func (c *logCounts) Write(ev *event.Event) error {
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

func (c *logCounts) Flush() error { return nil }

func logResult(ctx context.Context, o scan.Options, th check.Threshold, files []string, verbose int) check.Result {
	var c logCounts
	sum, err := scan.Run(ctx, o, files, strings.NewReader(""), &c)
	if err != nil {
		return check.Unknownf("%v", err)
	}
	if len(sum.Failed) > 0 {
		return check.Unknownf("cannot read %v; check the path and the permissions", sum.Failed[0])
	}
	active := o.State.Active()
	stale := o.State.Stale(o.State.Now())
	status, openSevere := check.OK, 0
	for _, al := range active {
		if al.Level == "critical" || al.Level == "major" {
			openSevere++
		}
	}
	switch {
	case openSevere > 0:
		status = check.Critical
	case len(active) > 0:
		status = check.Warning
	}
	if th.Crit != nil && th.Crit.Alert(float64(c.severe)) {
		status = check.Critical
	}
	if status == check.OK && th.Warn != nil && th.Warn.Alert(float64(c.significant)) {
		status = check.Warning
	}
	r := check.Result{Status: status, Summary: logSummary(c, sum.Lines, active, stale, openSevere)}
	r.Perf = []check.Perfdata{
		{Label: "lines", Value: float64(sum.Lines), UOM: "c"},
		{Label: "significant", Value: float64(c.significant), Warn: th.Warn, Min: check.Float(0)},
		{Label: "critical_events", Value: float64(c.severe), Crit: th.Crit, Min: check.Float(0)},
		{Label: "open_alarms", Value: float64(len(active)), Min: check.Float(0)},
		{Label: "stale_alarms", Value: float64(len(stale)), Min: check.Float(0)},
		{Label: "unparsed", Value: float64(c.unparsed), Min: check.Float(0)},
	}
	if verbose > 0 {
		r.Long = logDetails(o.State, active, stale)
	}
	return r
}

func logSummary(c logCounts, lines int64, active, stale []state.Alarm, openSevere int) string {
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

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/logcheck"
	"github.com/hsmwatch/hsmwatch/internal/classify"
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
		return logcheck.Result(ctx, o, th, files, f.verbose > 0)
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

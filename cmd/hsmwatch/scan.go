package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
	"github.com/hsmwatch/hsmwatch/internal/sink/table"
)

type scanFlags struct {
	format, since, until, host, defaultHost, output, tz, only string
	rules                                                     []string
}

func (a *app) scanCommand() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [FILE|-]...",
		Short: "Turn HSM log files into structured events",
		Long: `scan reads log files (plain, .gz, .zip; - or nothing for standard input), parses
every line into a schema v1 event and writes one event per input line. Lines no parser
understands become events of source "unparsed" with the reason. A summary goes to
standard error. The exit status is 1 when an input cannot be read, 0 otherwise.

Formats: ` + strings.Join(parse.Formats(), ", ") + `.`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.scan(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", parse.Auto, "input format: "+strings.Join(parse.Formats(), ", "))
	fl.StringVar(&f.since, "since", "", "keep events at or after this time (RFC 3339, 2006-01-02, or a duration such as 24h)")
	fl.StringVar(&f.until, "until", "", "keep events before this time (same forms as --since)")
	fl.StringVar(&f.host, "host", "", "keep events of the hosts matching this glob (case-insensitive)")
	fl.StringVar(&f.defaultHost, "default-host", "", "host for events whose input names none (Dinamo lines without trailer, bare ALM lines)")
	fl.StringVarP(&f.output, "output", "o", "jsonl", "output: jsonl or table")
	fl.StringVar(&f.tz, "tz", "Local", "time zone of timestamps written without an offset (IANA name, UTC or Local)")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule file or folder added to the shipped catalog (repeatable)")
	fl.StringVar(&f.only, "only", "", "keep only significant events (warning and above, trap notifications, alarm changes) or alarms (asserts and clears)")
	return cmd
}

func (a *app) scan(cmd *cobra.Command, f scanFlags, args []string) error {
	o, err := f.options()
	if err != nil {
		return err
	}
	var sink scan.Sink
	switch f.output {
	case "jsonl":
		sink = jsonl.New(a.stdout)
	case "table":
		sink = table.New(a.stdout)
	default:
		return fmt.Errorf("--output %q: use jsonl or table", f.output)
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	sum, err := scan.Run(cmd.Context(), o, args, a.stdin, sink)
	if sum != nil {
		sum.WriteSummary(a.stderr)
	}
	if err != nil {
		return err
	}
	if len(sum.Failed) > 0 {
		return exitError{code: 1}
	}
	return nil
}

func (f scanFlags) options() (scan.Options, error) {
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return scan.Options{}, fmt.Errorf("--tz %q: %w", f.tz, err)
	}
	now := time.Now()
	o := scan.Options{Format: f.format, Location: loc, Now: now, Host: f.host, DefaultHost: f.defaultHost}
	if f.since != "" {
		if o.Since, err = scan.ParseTime(f.since, now, loc); err != nil {
			return o, fmt.Errorf("--since: %w", err)
		}
	}
	if f.until != "" {
		if o.Until, err = scan.ParseTime(f.until, now, loc); err != nil {
			return o, fmt.Errorf("--until: %w", err)
		}
	}
	if _, err := parse.New(f.format, parse.Options{}); err != nil {
		return o, fmt.Errorf("--format: %w", err)
	}
	switch f.only {
	case "", "significant", "alarms":
		o.Only = f.only
	default:
		return o, fmt.Errorf("--only %q: use significant or alarms", f.only)
	}
	if o.Catalog, err = classify.Load(f.rules...); err != nil {
		return o, fmt.Errorf("rules: %w", err)
	}
	return o, nil
}

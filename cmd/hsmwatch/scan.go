package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/report"
	"github.com/hsmwatch/hsmwatch/internal/scan"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
	"github.com/hsmwatch/hsmwatch/internal/sink/table"
	"github.com/hsmwatch/hsmwatch/internal/snmp/sender"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

type scanFlags struct {
	format, since, until, host, defaultHost, output, tz, only, report string
	rules, ignore                                                     []string
	staleAfter                                                        time.Duration
	trap                                                              trapSendFlags
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

With --report, scan prints instead what an operator reads first: the alarms still open
at the end of the record (stale ones apart), the most frequent significant events,
repeats and storms, and for Dinamo logs the integrity findings (counter gaps, restarts,
truncations) and the client sessions. --report=json gives the same as one JSON document;
--report=html one self-contained HTML page (no script, nothing loaded from elsewhere) for
an auditor or an incident review: the same facts, each host's events over time by level
and every alarm's span from opening to clear drawn in SVG, and each frequent event with
its rule's meaning and action. Redirect it to a file: scan --report=html x.log > x.html.

With --trap-target HOST:PORT, scan also replays the Luna notifications of the events it
writes into an NMS, as the appliance's trap agent (lsta) sends them: the
SAFENET-APPLIANCE-MIB notification of the event's category and one ssLogReference,
"[host:ip / logfile / date / process[pid] / 1|0]" (***TEST before it for trap tests). v2c
with --trap-community, v3 with --trap-user; traps, or informs (--trap-inform). Give
communities and passphrases with the -file flags or HSMWATCH_TRAP_COMMUNITY,
HSMWATCH_TRAP_AUTH_PASS, HSMWATCH_TRAP_PRIV_PASS: a flag value shows in process lists.
The power supply, motherboard and crypto OIDs are not public: --mibs DIR with the vendor's
SAFENET-APPLIANCE-MIB, or --trap-oid NAME=OID. A notification that cannot be sent makes the
exit status 1.

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
	fl.StringVar(&f.report, "report", "", "print the report instead of the events: text (the default with a bare --report), json or html")
	fl.Lookup("report").NoOptDefVal = "text"
	fl.DurationVar(&f.staleAfter, "stale-after", 24*time.Hour, "an alarm open this long at the end of the record is stale")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "ignore events of the rules matching this glob, such as luna.ssh.* (repeatable)")
	fl.StringVar(&f.only, "only", "", "keep only significant events (warning and above, trap notifications, alarm changes) or alarms (asserts and clears)")
	f.trap.register(fl)
	return cmd
}

func (a *app) scan(cmd *cobra.Command, f scanFlags, args []string) error {
	o, err := f.options()
	if err != nil {
		return err
	}
	var sink scan.Sink
	switch {
	case f.report != "":
		if f.report != "text" && f.report != "json" && f.report != "html" {
			return fmt.Errorf("--report %q: use text, json or html", f.report)
		}
		sink = discard{}
	case f.output == "jsonl":
		sink = jsonl.New(a.stdout)
	case f.output == "table":
		sink = table.New(a.stdout)
	default:
		return fmt.Errorf("--output %q: use jsonl or table", f.output)
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	traps, err := f.trap.sink(a.stderr)
	if err != nil {
		return err
	}
	var tee *sender.Tee
	if traps != nil {
		tee = sender.NewTee(cmd.Context(), sink, traps, a.stderr)
		sink = tee
	}
	var tl *report.Timeline
	if f.report == "html" {
		tl = report.NewTimeline()
		o.Observed = tl.Observe
	}
	sum, err := scan.Run(cmd.Context(), o, args, a.stdin, sink)
	if sum != nil {
		sum.WriteSummary(a.stderr)
	}
	if traps != nil {
		fmt.Fprintln(a.stderr, traps.Stats().Summary())
	}
	if err != nil {
		return err
	}
	if f.report != "" {
		if err := a.writeReport(f, o, tl, args); err != nil {
			return err
		}
	}
	if len(sum.Failed) > 0 || (tee != nil && tee.Failed()) {
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
	cfg := state.Config{StaleAfter: f.staleAfter}
	for _, g := range f.ignore {
		cfg.Ignore = append(cfg.Ignore, state.Ignore{Rule: g, Reason: "--ignore " + g})
	}
	if o.State, err = state.New(cfg, o.Catalog); err != nil {
		return o, fmt.Errorf("--ignore: %w", err)
	}
	return o, nil
}

func (a *app) writeReport(f scanFlags, o scan.Options, tl *report.Timeline, inputs []string) error {
	r := report.Build(o.State, report.Options{StaleAfter: f.staleAfter})
	switch f.report {
	case "json":
		return r.WriteJSON(a.stdout)
	case "html":
		return r.WriteHTML(a.stdout, report.HTMLOptions{Timeline: tl, Rules: o.Catalog, Inputs: inputs})
	}
	return r.WriteText(a.stdout)
}

// discard is the sink of a scan whose output is the report.
type discard struct{}

func (discard) Write(*event.Event) error { return nil }
func (discard) Flush() error             { return nil }

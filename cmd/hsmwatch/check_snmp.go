package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

type checkSNMPFlags struct {
	check.Options
	snmpFlags
}

func (a *app) checkSNMPCommand() *cobra.Command {
	var f checkSNMPFlags
	cmd := &cobra.Command{
		Use:   "snmp HOST[:PORT] [--community-file F | --user NAME --auth-pass-file F --priv-pass-file F] [--profile P] [--mibs DIR] [-w 80] [-c 90] [-v] [-t 10]",
		Short: "Check an HSM's health over SNMP (storage, NTLS, battery, tamper, error rates, ...)",
		Long: `snmp polls one HSM the way hsmwatch poll does and reports its health as a Nagios/Icinga
plugin: one line "STATUS: summary | perfdata", the worst health item deciding the status,
exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

  OK: myLuna (luna-network): 10 health items OK | hsm_storage_used_532018=37.5%;80;90;0;100 ...
  CRITICAL: myLuna (luna-network): NTLS status is notRunning(2) (critical when 2); 9 more OK | ...

UNKNOWN when the HSM does not answer or refuses the credentials, with what to check, and
when the objects of its profile need a MIB that is not loaded (--mibs DIR).

-w and -c set the ranges of the storage items (HSM and partition storage, Dinamo disk);
--threshold ID=WARN,CRIT those of any item (see hsmwatch poll for the items and their
defaults). Rates need the previous run's counters: give --state-file FILE, one per HSM.

Secrets: --community, --auth-pass and --priv-pass show in process lists; use
--community-file, --auth-pass-file, --priv-pass-file or HSMWATCH_COMMUNITY,
HSMWATCH_AUTH_PASS, HSMWATCH_PRIV_PASS. -t bounds the whole check; --snmp-timeout and
--retries each request.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return a.checkUsage(c, fmt.Errorf("give one HSM address (HOST or HOST:PORT), got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.checkSNMP(cmd.Context(), args[0], f) },
	}
	fl := cmd.Flags()
	f.Options.Register(fl, "the storage used in percent (HSM, partitions, Dinamo disk; default: the profile's 80 and 90)", "", "")
	f.snmpFlags.register(fl, "snmp-timeout", 2*time.Second)
	fl.Lookup("verbose").Usage = "-v: every health item; -vv: the target, the profile and why, the HSM's identity; -vvv: the notes of the poll"
	return cmd
}

func (a *app) checkSNMP(ctx context.Context, host string, f checkSNMPFlags) error {
	_, to, err := f.Options.Parse() // checks -w and -c; they become the storage items' thresholds
	var o poller.Options
	var warnings []string
	if err == nil {
		o, warnings, err = f.snmpFlags.options(host, os.Getenv)
	}
	if err == nil {
		withStorage(&o, f.Warn, f.Crit)
		var p *poller.Poller
		if p, err = poller.New(o); err == nil {
			defer p.Close()
			// gosnmp bounds its socket reads by the context's deadline, so the poll itself
			// ends shortly after -t: the watchdog answers at -t, and Close does not wait
			// long for a request still in flight.
			pctx, cancel := context.WithTimeout(ctx, to.After+250*time.Millisecond)
			defer cancel()
			tr := check.NewTrace(a.stdout, f.Verbose)
			res := to.Run(ctx, func(context.Context) check.Result {
				return snmpResult(pctx, tr, p, f, warnings)
			}, func() string {
				return "polling " + o.Target.String() + ": raise -t or lower --snmp-timeout and --retries"
			})
			tr.Close()
			return exitStatus(res.Write(a.stdout))
		}
	}
	check.Unknownf("%v (see hsmwatch check snmp --help)", err).Write(a.stdout)
	return exitError{code: int(check.Unknown)}
}

// snmpResult polls once and turns the result into the plugin's answer.
func snmpResult(ctx context.Context, tr *check.Trace, p *poller.Poller, f checkSNMPFlags, warnings []string) check.Result {
	notes := append([]string(nil), warnings...)
	if n := restoreState(p, f.stateFile); n != "" {
		notes = append(notes, n)
	}
	r, err := p.Poll(ctx)
	if err != nil {
		return check.Unknownf("%v", err)
	}
	if n := saveState(p, f.stateFile); n != "" {
		notes = append(notes, n)
	}
	tr.Printf(check.Config, "Target %s", r.Target)
	if r.Detection != nil {
		tr.Printf(check.Config, "Profile %s: %s", r.Profile, r.Detection.Reason)
	}
	for _, fld := range r.Identity {
		tr.Printf(check.Config, "%s: %s", fld.Label, fld.Value)
	}
	notes = append(notes, r.Notes...)
	for _, n := range notes {
		tr.Printf(check.Debug, "Note: %s", n)
	}
	who := r.Host + " (" + r.Profile + ")"
	if r.Status == check.Unknown && len(r.Notes) > 0 && !anyKnown(r.Items) {
		return check.Unknownf("%s: %s", who, r.Notes[0])
	}
	res := check.Result{Status: r.Status, Perf: snmpPerf(r.Items)}
	var problems []*poller.Item
	ok, pending := 0, 0
	for i := range r.Items {
		it := &r.Items[i]
		switch {
		case it.State == poller.StatePending:
			pending++
		case it.Status == check.OK:
			ok++
		default:
			problems = append(problems, it)
		}
		if f.Verbose >= check.Verbose {
			line := strings.ToUpper(it.State) + ": " + it.Describe()
			if l := it.Limit(); l != "" {
				line += " (" + l + ")"
			}
			res.Long = append(res.Long, line)
		}
	}
	if pending > 0 && f.Verbose >= check.Verbose && f.stateFile == "" {
		res.Long = append(res.Long, "Rates need the counters of the previous run: give --state-file FILE")
	}
	// worst first, then in profile order
	rank := map[check.Status]int{check.Critical: 0, check.Warning: 1, check.Unknown: 2}
	sort.SliceStable(problems, func(i, j int) bool { return rank[problems[i].Status] < rank[problems[j].Status] })
	if len(problems) == 0 {
		res.Summary = fmt.Sprintf("%s: %d health %s OK", who, ok, plural(ok, "item", "items"))
		return res
	}
	var parts []string
	for _, it := range problems {
		s := it.Describe()
		if l := it.Limit(); l != "" {
			s += " (" + l + ")"
		}
		parts = append(parts, s)
	}
	res.Summary = who + ": " + strings.Join(parts, "; ")
	if ok > 0 {
		res.Summary += fmt.Sprintf("; %d more OK", ok)
	}
	return res
}

func anyKnown(items []poller.Item) bool {
	for i := range items {
		if items[i].Known() {
			return true
		}
	}
	return false
}

// snmpPerf is one perfdata item per judged health item: its key as label (':' as '_'),
// percentages with their 0..100 bounds.
func snmpPerf(items []poller.Item) []check.Perfdata {
	var out []check.Perfdata
	for i := range items {
		it := &items[i]
		if !it.Known() {
			continue
		}
		th := it.Threshold()
		pd := check.Perfdata{Label: strings.ReplaceAll(it.Key, ":", "_"), Warn: th.Warn, Crit: th.Crit}
		switch it.Unit {
		case "%":
			pd.UOM, pd.Value = "%", math.Round(it.Value*100)/100
			pd.Min, pd.Max = check.Float(0), check.Float(100)
		default:
			pd.Value = math.Round(it.Value*1000) / 1000
		}
		out = append(out, pd)
	}
	return out
}

// Package snmpcheck is hsmwatch check snmp's answer: one poll of an HSM (internal/snmp/poller)
// judged as a Nagios/Icinga plugin result.
package snmpcheck

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

// Options are what check snmp's result depends on beside the poll.
type Options struct {
	StateFile string   // --state-file, "" for none
	Verbose   int      // -v count: 1 lists every health item
	Notes     []string // what the setup noted already (MIBs that did not load), shown at -vvv
}

// Result polls p once and turns the result into the plugin's answer: the worst health
// item decides, the problems (worst first) make the summary, every known item is
// perfdata. The trace gets the target and the profile at -vv and the notes at -vvv.
func Result(ctx context.Context, tr *check.Trace, p *poller.Poller, o Options) check.Result {
	notes := append([]string(nil), o.Notes...)
	if n := p.RestoreFile(o.StateFile); n != "" {
		notes = append(notes, n)
	}
	r, err := p.Poll(ctx)
	if err != nil {
		return check.Unknownf("%v", err)
	}
	if n := p.SaveFile(o.StateFile); n != "" {
		notes = append(notes, n)
	}
	traceResult(tr, r, append(notes, r.Notes...))
	who := r.Host + " (" + r.Profile + ")"
	if r.Status == check.Unknown && len(r.Notes) > 0 && !anyKnown(r.Items) {
		return check.Unknownf("%s: %s", who, r.Notes[0])
	}
	return judge(r, who, o)
}

// traceResult writes the target, the profile and the HSM's identity at -vv, the notes
// at -vvv.
func traceResult(tr *check.Trace, r *poller.Result, notes []string) {
	tr.Printf(check.Config, "Target %s", r.Target)
	if r.Detection != nil {
		tr.Printf(check.Config, "Profile %s: %s", r.Profile, r.Detection.Reason)
	}
	for _, fld := range r.Identity {
		tr.Printf(check.Config, "%s: %s", fld.Label, fld.Value)
	}
	for _, n := range notes {
		tr.Printf(check.Debug, "Note: %s", n)
	}
}

// judge builds the plugin result of a poll that judged items; who names the HSM.
func judge(r *poller.Result, who string, o Options) check.Result {
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
		if o.Verbose >= check.Verbose {
			res.Long = append(res.Long, strings.ToUpper(it.State)+": "+describe(it))
		}
	}
	if pending > 0 && o.Verbose >= check.Verbose && o.StateFile == "" {
		res.Long = append(res.Long, "Rates need the counters of the previous run: give --state-file FILE")
	}
	res.Summary = summary(who, problems, ok)
	return res
}

// summary lists the problems, worst first and then in profile order, and counts the
// items that are OK.
func summary(who string, problems []*poller.Item, ok int) string {
	rank := map[check.Status]int{check.Critical: 0, check.Warning: 1, check.Unknown: 2}
	sort.SliceStable(problems, func(i, j int) bool { return rank[problems[i].Status] < rank[problems[j].Status] })
	if len(problems) == 0 {
		return fmt.Sprintf("%s: %d health %s OK", who, ok, plural(ok, "item", "items"))
	}
	var parts []string
	for _, it := range problems {
		parts = append(parts, describe(it))
	}
	s := who + ": " + strings.Join(parts, "; ")
	if ok > 0 {
		s += fmt.Sprintf("; %d more OK", ok)
	}
	return s
}

// describe is an item with its value and, when it has one, the limit it crossed.
func describe(it *poller.Item) string {
	s := it.Describe()
	if l := it.Limit(); l != "" {
		s += " (" + l + ")"
	}
	return s
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

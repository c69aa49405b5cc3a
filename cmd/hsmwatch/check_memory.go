package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

type memoryFlags struct {
	p11Flags
	total  uint64
	memory string
}

func (a *app) checkMemoryCommand() *cobra.Command {
	var f memoryFlags
	cmd := &cobra.Command{
		Use:   "memory -p LIBRARY (-l LABEL | -s SLOT | --all) [-w 75] [-c 90] [-m TOTAL] [-v] [-t 10]",
		Short: "Check the memory in use on an HSM token over PKCS#11 (p11memmon's check)",
		Long: `memory checks how much of a token's memory is in use, the way SURFnet's p11memmon
does: it loads the HSM's PKCS#11 library, finds the token by label (-l) or slot (-s),
reads the private memory the token reports (total and free; no login needed) and reports
used = total - free as a whole percentage:

  OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90

-w and -c are Monitoring Plugins ranges over the exact percentage (75 means above 75%).
-m gives the total in bytes when the token reports a wrong one (the Luna SA 5 may).
--memory public or both checks the public memory too (-m applies to private memory).
--all checks every initialised token. -v prints each step, as p11memmon -v does.
The exit status is 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, with a message saying what to do
when the token cannot be checked. -t bounds the whole check, even a library that hangs.`,
		Args: a.checkNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.checkMemory(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.Uint64VarP(&f.total, "total", "m", 0, "the total private memory in bytes, instead of the total the token reports")
	fl.StringVar(&f.memory, "memory", "private", "which memory: private (p11memmon), public or both")
	return cmd
}

func (a *app) checkMemory(ctx context.Context, f memoryFlags) error {
	sel, th, to, err := f.parse()
	if err == nil {
		switch f.memory {
		case "private", "public", "both":
		default:
			err = fmt.Errorf("--memory %q: use private, public or both", f.memory)
		}
	}
	if err != nil {
		check.Unknownf("%v (see hsmwatch check memory --help)", err).Write(a.stdout)
		return exitError{code: int(check.Unknown)}
	}
	tr := check.NewTrace(a.stdout, f.Verbose)
	res := to.Run(ctx, func(ctx context.Context) check.Result {
		s, fail := openTokens(ctx, tr, f.lib, sel)
		defer s.close()
		if fail != nil {
			return *fail
		}
		return memoryResult(tr, s, f, th, sel.all)
	}, stuckDetail(tr, f.lib))
	tr.Close()
	return exitStatus(res.Write(a.stdout))
}

// memoryResult evaluates the tokens found.
func memoryResult(tr *check.Trace, s *p11Session, f memoryFlags, th check.Threshold, all bool) check.Result {
	dup := duplicateLabels(s.tokens)
	type tokenResult struct {
		name   string
		status check.Status
		texts  []string
	}
	var out []tokenResult
	var perf []check.Perfdata
	for _, t := range s.tokens {
		name := tokenName(t, dup[t.Label])
		if all {
			tr.Printf(check.Verbose, "Checking the token with label %s in slot %d", t.Label, t.Slot)
		}
		tr.Printf(check.Config, "Token in slot %d: label %q, model %s, serial %s, manufacturer %s, flags 0x%X (%s)",
			t.Slot, t.Label, t.Model, t.Serial, t.Manufacturer, uint64(t.Flags), strings.Join(t.Flags.Names(), ", "))
		prefix := ""
		if all {
			prefix = name + " "
		}
		tres := tokenResult{name: name}
		var states []check.Status
		for _, kind := range memoryKinds(f.memory) {
			mem, override := t.Private(), f.total
			if kind == "public" {
				mem, override = t.Public(), 0
			}
			u := mem.Usage(override, th)
			traceMemory(tr, u)
			states = append(states, u.Status)
			tres.texts = append(tres.texts, memoryText(t.Label, u))
			if u.Problem == pkcs11probe.MemoryFine {
				perf = append(perf, memoryPerf(u, prefix, th)...)
			}
		}
		tres.status = check.Worst(states...)
		out = append(out, tres)
	}
	for _, slot := range slices.Sorted(maps.Keys(s.failed)) {
		out = append(out, tokenResult{name: fmt.Sprintf("slot %d", slot), status: check.Unknown,
			texts: []string{s.failed[slot].Error()}})
	}
	if !all {
		r := out[0]
		return check.Result{Status: r.status, Summary: strings.Join(r.texts, "; "), Perf: perf}
	}
	// --all: the tokens with a problem in the summary, every token in the long text.
	var states []check.Status
	var problems, long []string
	okCount := 0
	for _, r := range out {
		states = append(states, r.status)
		text := r.name + ": " + strings.Join(r.texts, "; ")
		long = append(long, r.status.String()+": "+text)
		if r.status == check.OK {
			okCount++
		} else {
			problems = append(problems, text)
		}
	}
	summary := strings.Join(problems, "; ")
	switch {
	case len(problems) == 0:
		summary = fmt.Sprintf("HSM memory usage is fine on %d %s", okCount, plural(okCount, "token", "tokens"))
	case okCount > 0:
		summary += fmt.Sprintf("; %d more %s OK", okCount, plural(okCount, "token", "tokens"))
	}
	return check.Result{Status: check.Worst(states...), Summary: summary, Perf: perf, Long: long}
}

func memoryKinds(which string) []string {
	switch which {
	case "public":
		return []string{"public"}
	case "both":
		return []string{"private", "public"}
	}
	return []string{"private"}
}

// traceMemory writes p11memmon's -v lines about one kind of memory.
func traceMemory(tr *check.Trace, u pkcs11probe.MemoryUsage) {
	if u.Problem == pkcs11probe.MemoryFreeUnavailable {
		tr.Printf(check.Verbose, "Token does not report its free %s memory", u.Kind)
		return
	}
	if u.Reported.Known() {
		tr.Printf(check.Verbose, "Token reports %d bytes of %d bytes %s memory free", u.Free, uint64(u.Reported), u.Kind)
	} else {
		tr.Printf(check.Verbose, "Token reports %d bytes of %s memory free and does not report the total", u.Free, u.Kind)
	}
	if u.Override {
		tr.Printf(check.Verbose, "Using %d bytes of %s memory in total, as given with -m", u.Total, u.Kind)
	}
	if u.Problem != pkcs11probe.MemoryFine {
		return
	}
	tr.Printf(check.Verbose, "That means %d bytes of %s memory are in use", u.Used, u.Kind)
	tr.Printf(check.Verbose, "Based on %d bytes of %s memory in total that means %d%% is in use", u.Total, u.Kind, u.Whole)
}

// memoryText is p11memmon's text for one kind of memory, or what keeps it from being
// checked and what to do.
func memoryText(label string, u pkcs11probe.MemoryUsage) string {
	hint := "give the real total with -m BYTES"
	if u.Kind == "public" {
		hint = "its public memory cannot be checked"
	}
	switch u.Problem {
	case pkcs11probe.MemoryFreeUnavailable:
		return fmt.Sprintf("token %q does not report its free %s memory (CK_UNAVAILABLE_INFORMATION), so its memory cannot be checked; hsmwatch check token checks what it does report", label, u.Kind)
	case pkcs11probe.MemoryTotalUnavailable:
		return fmt.Sprintf("token %q does not report its total %s memory (CK_UNAVAILABLE_INFORMATION); %s", label, u.Kind, hint)
	case pkcs11probe.MemoryTotalZero:
		return fmt.Sprintf("token %q reports a total of 0 bytes of %s memory; %s", label, u.Kind, hint)
	case pkcs11probe.MemoryFreeAboveTotal:
		if u.Override {
			return fmt.Sprintf("token %q reports more free %s memory (%d bytes) than the %d bytes in total given with -m; check -m", label, u.Kind, u.Free, u.Total)
		}
		return fmt.Sprintf("token %q reports more free %s memory (%d bytes) than in total (%d bytes); %s", label, u.Kind, u.Free, u.Total, hint)
	}
	what := "HSM memory usage"
	if u.Kind == "public" {
		what = "HSM public memory usage"
	}
	return fmt.Sprintf("%s is at %d%% (%d bytes in use)", what, u.Whole, u.Used)
}

// memoryPerf returns p11memmon's perfdata: bytes used (min 0, max the total) and the usage
// in percent (with -w and -c), rounded to 2 decimals.
func memoryPerf(u pkcs11probe.MemoryUsage, prefix string, th check.Threshold) []check.Perfdata {
	name := ""
	if u.Kind == "public" {
		name = "public_"
	}
	return []check.Perfdata{
		{Label: prefix + name + "used", Value: float64(u.Used), UOM: "B", Min: check.Float(0), Max: check.Float(float64(u.Total))},
		{Label: prefix + name + "usage", Value: math.Round(u.Percent*100) / 100, UOM: "%", Warn: th.Warn, Crit: th.Crit},
	}
}

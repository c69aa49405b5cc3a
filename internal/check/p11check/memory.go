package p11check

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// Memory says which memory check memory looks at.
type Memory struct {
	// Which is "private" (p11memmon's check), "public" or "both".
	Which string
	// Total, when not 0, replaces the total private memory the token reports (-m).
	Total uint64
}

// kinds lists the kinds of memory m.Which names.
func (m Memory) kinds() []string {
	switch m.Which {
	case "public":
		return []string{"public"}
	case "both":
		return []string{"private", "public"}
	}
	return []string{"private"}
}

// memoryEval is one token's (or failed slot's) part of check memory's result.
type memoryEval struct {
	name   string
	status check.Status
	texts  []string
}

// MemoryResult is check memory's result for the tokens of s, p11memmon's for one token:
// the memory in use against th. With all (--all) the summary lists the tokens with a
// problem and the long text every token.
func MemoryResult(tr *check.Trace, s *pkcs11probe.Session, m Memory, th check.Threshold, all bool) check.Result {
	dup := DuplicateLabels(s.Tokens)
	var out []memoryEval
	var perf []check.Perfdata
	for _, t := range s.Tokens {
		name := TokenName(t, dup[t.Label])
		if all {
			tr.Printf(check.Verbose, "Checking the token with label %s in slot %d", t.Label, t.Slot)
		}
		traceToken(tr, t)
		e, p := evalMemory(tr, t, m, th, prefixFor(all, name))
		e.name = name
		out = append(out, e)
		perf = append(perf, p...)
	}
	for _, slot := range slices.Sorted(maps.Keys(s.Failed)) {
		out = append(out, memoryEval{name: fmt.Sprintf("slot %d", slot), status: check.Unknown,
			texts: []string{s.Failed[slot].Error()}})
	}
	if !all {
		r := out[0]
		return check.Result{Status: r.status, Summary: strings.Join(r.texts, "; "), Perf: perf}
	}
	return allMemory(out, perf)
}

// evalMemory judges the memory kinds of one token; prefix names it in perfdata labels.
func evalMemory(tr *check.Trace, t pkcs11probe.Token, m Memory, th check.Threshold, prefix string) (memoryEval, []check.Perfdata) {
	var e memoryEval
	var perf []check.Perfdata
	var states []check.Status
	for _, kind := range m.kinds() {
		mem, override := t.Private(), m.Total
		if kind == "public" {
			mem, override = t.Public(), 0
		}
		u := mem.Usage(override, th)
		traceMemory(tr, u)
		states = append(states, u.Status)
		e.texts = append(e.texts, memoryText(t.Label, u))
		if u.Problem == pkcs11probe.MemoryFine {
			perf = append(perf, memoryPerf(u, prefix, th)...)
		}
	}
	e.status = check.Worst(states...)
	return e, perf
}

// allMemory is the result of --all: the tokens with a problem in the summary, every
// token in the long text.
func allMemory(out []memoryEval, perf []check.Perfdata) check.Result {
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
	summary := allSummary(problems, okCount, func(n int) string {
		return fmt.Sprintf("HSM memory usage is fine on %d %s", n, plural(n, "token", "tokens"))
	})
	return check.Result{Status: check.Worst(states...), Summary: summary, Perf: perf, Long: long}
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

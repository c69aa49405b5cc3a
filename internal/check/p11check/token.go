package p11check

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// TokenResult is check token's result for the tokens of s: each token's health against
// th, the worst deciding. all (--all) names each token in the summary and the perfdata;
// otherwise the summary is the one token's.
func TokenResult(tr *check.Trace, s *pkcs11probe.Session, th pkcs11probe.Thresholds, all bool) check.Result {
	dup := DuplicateLabels(s.Tokens)
	var states []check.Status
	var problems, long []string
	var perf []check.Perfdata
	okCount := 0
	var single string
	for _, t := range s.Tokens {
		e := evalToken(tr, t, th, prefixFor(all, TokenName(t, dup[t.Label])))
		states = append(states, e.status)
		if e.status == check.OK {
			okCount++
		} else {
			problems = append(problems, e.text)
		}
		single = e.text
		perf = append(perf, e.perf...)
		long = append(long, e.long...)
	}
	for _, slot := range slices.Sorted(maps.Keys(s.Failed)) {
		states = append(states, check.Unknown)
		text := fmt.Sprintf("slot %d: %v", slot, s.Failed[slot])
		problems = append(problems, text)
		long = append(long, text+": UNKNOWN")
	}
	summary := single
	if all {
		summary = allSummary(problems, okCount, func(n int) string {
			return fmt.Sprintf("%d %s fine", n, plural(n, "token is", "tokens are"))
		})
	}
	return check.Result{Status: check.Worst(states...), Summary: summary, Perf: perf, Long: long}
}

// tokenEval is one token's part of check token's result.
type tokenEval struct {
	status check.Status
	text   string // the summary: what is fine, or the problems
	perf   []check.Perfdata
	long   []string
}

// evalToken judges one token; prefix names it in perfdata labels (--all).
func evalToken(tr *check.Trace, t pkcs11probe.Token, th pkcs11probe.Thresholds, prefix string) tokenEval {
	traceToken(tr, t)
	h := pkcs11probe.TokenHealth(t, th)
	e := tokenEval{status: h.Status}
	var bad, good []string
	for _, f := range h.Findings {
		if f.Memory != nil {
			traceMemory(tr, *f.Memory)
		}
		for _, p := range f.Perf {
			p.Label = prefix + p.Label
			e.perf = append(e.perf, p)
		}
		switch {
		case f.Info:
		case f.Status == check.OK:
			good = append(good, f.Summary)
		default:
			bad = append(bad, f.Summary)
		}
	}
	head := fmt.Sprintf("token %s in slot %d", displayLabel(t.Label), t.Slot)
	if h.Status == check.OK {
		e.text = head + " is fine: " + strings.Join(good, ", ")
	} else {
		e.text = head + ": " + strings.Join(bad, ", ")
	}
	e.long = append(e.long, fmt.Sprintf("%s: %s; model %s, serial %s, manufacturer %s, hardware %s, firmware %s",
		head, h.Status, orNone(t.Model), orNone(t.Serial), orNone(t.Manufacturer), t.HardwareVersion, t.FirmwareVersion))
	e.long = append(e.long, "  flags: "+strings.Join(t.Flags.Names(), ", "))
	for _, f := range h.Findings {
		e.long = append(e.long, "  "+findingLine(t, f))
	}
	return e
}

// findingLine writes a finding in the long text: "STATUS: text", or the bare text of an
// Info finding, with the command line's advice where a finding calls for it.
func findingLine(t pkcs11probe.Token, f pkcs11probe.Finding) string {
	text := f.Text
	switch {
	case f.ID == pkcs11probe.IDNotInitialized:
		text += " or check -s"
	case f.Info && f.Memory != nil:
		text = f.Memory.Kind + " memory: " + memoryText(t.Label, *f.Memory)
	}
	if f.Info {
		return text
	}
	return f.Status.String() + ": " + text
}

// displayLabel writes a label in texts; an empty one as "(no label)".
func displayLabel(l string) string {
	if l == "" {
		return "(no label)"
	}
	return l
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

type tokenFlags struct {
	p11Flags
	sessWarn, sessCrit   string
	clockWarn, clockCrit string
}

func (a *app) checkTokenCommand() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token -p LIBRARY (-l LABEL | -s SLOT | --all) [options]",
		Short: "Check an HSM token's health over PKCS#11: PIN lockout, sessions, memory, clock",
		Long: `token reads what a PKCS#11 token reports about itself (no login needed) and checks:

  - the token is initialised and not in an error state (CKF_ERROR_STATE): else CRITICAL;
  - lockout flags: a user or SO PIN locked or at its final try is CRITICAL, a PIN count
    low (a wrong PIN since the last good login) or a PIN to be changed is a WARNING;
  - sessions and read/write sessions in use against their maximum, in percent
    (--sessions-warning, --sessions-critical), when the token reports both;
  - private and public memory in use, in percent (-w, -c), when the token reports them;
  - the token's clock against this host's, in seconds either way (--clock-warning,
    --clock-critical), for tokens with a clock (CKF_CLOCK_ON_TOKEN).

What a token does not report (SoftHSM reports no memory and no session count) is said in
the long text and does not change the state. --all checks every initialised token.
Thresholds are Monitoring Plugins ranges. Exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.`,
		Args: a.checkNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.checkToken(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.StringVar(&f.sessWarn, "sessions-warning", pkcs11probe.DefaultSessionsWarn, "WARNING when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.sessCrit, "sessions-critical", pkcs11probe.DefaultSessionsCrit, "CRITICAL when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.clockWarn, "clock-warning", pkcs11probe.DefaultClockWarn, "WARNING when the token's clock is this many seconds or more away from the host's (a range over the absolute difference)")
	fl.StringVar(&f.clockCrit, "clock-critical", pkcs11probe.DefaultClockCrit, "CRITICAL when the token's clock is this far away from the host's")
	return cmd
}

func (a *app) checkToken(ctx context.Context, f tokenFlags) error {
	sel, mem, to, err := f.parse()
	var th pkcs11probe.Thresholds
	if err == nil {
		th.Memory = mem
		if th.Sessions, err = check.ParseThreshold(f.sessWarn, f.sessCrit); err != nil {
			err = fmt.Errorf("sessions: %w", err)
		}
	}
	if err == nil {
		if th.Clock, err = check.ParseThreshold(f.clockWarn, f.clockCrit); err != nil {
			err = fmt.Errorf("clock: %w", err)
		}
	}
	if err != nil {
		check.Unknownf("%v (see hsmwatch check token --help)", err).Write(a.stdout)
		return exitError{code: int(check.Unknown)}
	}
	tr := check.NewTrace(a.stdout, f.Verbose)
	res := to.Run(ctx, func(ctx context.Context) check.Result {
		s, fail := openTokens(ctx, tr, f.lib, sel)
		defer s.close()
		if fail != nil {
			return *fail
		}
		return tokenResult(tr, s, th, sel.all)
	}, stuckDetail(tr, f.lib))
	tr.Close()
	return exitStatus(res.Write(a.stdout))
}

// tokenResult evaluates every selected token.
func tokenResult(tr *check.Trace, s *p11Session, th pkcs11probe.Thresholds, all bool) check.Result {
	dup := duplicateLabels(s.tokens)
	var states []check.Status
	var problems, long []string
	var perf []check.Perfdata
	okCount := 0
	var single string
	for _, t := range s.tokens {
		name := tokenName(t, dup[t.Label])
		prefix := ""
		if all {
			prefix = name + " "
		}
		tr.Printf(check.Config, "Token in slot %d: label %q, model %s, serial %s, manufacturer %s, flags 0x%X (%s)",
			t.Slot, t.Label, t.Model, t.Serial, t.Manufacturer, uint64(t.Flags), strings.Join(t.Flags.Names(), ", "))
		h := pkcs11probe.TokenHealth(t, th)
		var bad, good []string
		for _, f := range h.Findings {
			if f.Memory != nil {
				traceMemory(tr, *f.Memory)
			}
			for _, p := range f.Perf {
				p.Label = prefix + p.Label
				perf = append(perf, p)
			}
			switch {
			case f.Info:
			case f.Status == check.OK:
				good = append(good, f.Summary)
			default:
				bad = append(bad, f.Summary)
			}
		}
		states = append(states, h.Status)
		head := fmt.Sprintf("token %s in slot %d", displayLabel(t.Label), t.Slot)
		var text string
		if h.Status == check.OK {
			okCount++
			text = head + " is fine: " + strings.Join(good, ", ")
		} else {
			text = head + ": " + strings.Join(bad, ", ")
			problems = append(problems, text)
		}
		single = text
		long = append(long, fmt.Sprintf("%s: %s; model %s, serial %s, manufacturer %s, hardware %s, firmware %s",
			head, h.Status, orNone(t.Model), orNone(t.Serial), orNone(t.Manufacturer), t.HardwareVersion, t.FirmwareVersion))
		long = append(long, "  flags: "+strings.Join(t.Flags.Names(), ", "))
		for _, f := range h.Findings {
			long = append(long, "  "+findingLine(t, f))
		}
	}
	for _, slot := range slices.Sorted(maps.Keys(s.failed)) {
		states = append(states, check.Unknown)
		text := fmt.Sprintf("slot %d: %v", slot, s.failed[slot])
		problems = append(problems, text)
		long = append(long, text+": UNKNOWN")
	}
	summary := single
	if all {
		summary = strings.Join(problems, "; ")
		switch {
		case len(problems) == 0:
			summary = fmt.Sprintf("%d %s fine", okCount, plural(okCount, "token is", "tokens are"))
		case okCount > 0:
			summary += fmt.Sprintf("; %d more %s OK", okCount, plural(okCount, "token", "tokens"))
		}
	}
	return check.Result{Status: check.Worst(states...), Summary: summary, Perf: perf, Long: long}
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

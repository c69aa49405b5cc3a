package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	pkcs11probe "github.com/hsmwatch/hsmwatch/internal/source/pkcs11"
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
	fl.StringVar(&f.sessWarn, "sessions-warning", "80", "WARNING when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.sessCrit, "sessions-critical", "95", "CRITICAL when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.clockWarn, "clock-warning", "60", "WARNING when the token's clock is this many seconds or more away from the host's (a range over the absolute difference)")
	fl.StringVar(&f.clockCrit, "clock-critical", "300", "CRITICAL when the token's clock is this far away from the host's")
	return cmd
}

// tokenThresholds are check token's three threshold pairs.
type tokenThresholds struct {
	memory, sessions, clock check.Threshold
}

func (a *app) checkToken(ctx context.Context, f tokenFlags) error {
	sel, mem, to, err := f.parse()
	var th tokenThresholds
	if err == nil {
		th.memory = mem
		if th.sessions, err = check.ParseThreshold(f.sessWarn, f.sessCrit); err != nil {
			err = fmt.Errorf("sessions: %w", err)
		}
	}
	if err == nil {
		if th.clock, err = check.ParseThreshold(f.clockWarn, f.clockCrit); err != nil {
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

// tokenItem is one finding about a token.
type tokenItem struct {
	status check.Status
	short  string // for the summary
	detail string // for the long text; short when empty
	info   bool   // a fact that does not take part in the state (memory not reported, say)
}

// tokenHealth evaluates one token; perf names are prefixed with prefix.
func tokenHealth(tr *check.Trace, t pkcs11probe.Token, th tokenThresholds, prefix string) ([]tokenItem, []check.Perfdata) {
	var items []tokenItem
	var perf []check.Perfdata
	add := func(st check.Status, short, detail string) {
		items = append(items, tokenItem{status: st, short: short, detail: detail})
	}
	note := func(detail string) { items = append(items, tokenItem{info: true, detail: detail}) }

	if !t.Initialized() {
		add(check.Critical, "not initialised", "not initialised (no CKF_TOKEN_INITIALIZED): it holds no keys; initialise it or check -s")
		return items, nil
	}
	if t.Flags.Has(pkcs11probe.FlagErrorState) {
		add(check.Critical, "in an error state", "in an error state (CKF_ERROR_STATE): see the HSM's logs and its vendor's instructions")
	}
	pins := t.PINProblems()
	for _, p := range pins {
		st := check.Warning
		if p.Critical {
			st = check.Critical
		}
		add(st, p.Who+" "+p.Text, fmt.Sprintf("%s %s: %s", p.Who, p.Text, p.Advice))
	}
	if len(pins) == 0 {
		add(check.OK, "no PIN lockout flags", "")
	}
	if !t.Flags.Has(pkcs11probe.FlagUserPINInitialized) {
		note("the user PIN is not initialised (no CKF_USER_PIN_INITIALIZED): applications cannot log in yet")
	}

	for _, s := range []struct {
		name, label string
		n, max      pkcs11probe.Ulong
	}{{"sessions", "sessions", t.Sessions, t.MaxSessions}, {"read/write sessions", "rw_sessions", t.RWSessions, t.MaxRWSessions}} {
		switch {
		case !s.n.Known():
			note(fmt.Sprintf("%s in use: not reported (maximum %s)", s.name, pkcs11probe.Limit(s.max)))
		case !s.max.Known() || s.max == 0:
			note(fmt.Sprintf("%s in use: %d (maximum %s)", s.name, s.n, pkcs11probe.Limit(s.max)))
			perf = append(perf, check.Perfdata{Label: prefix + s.label, Value: float64(s.n), Min: check.Float(0)})
		default:
			pct := float64(s.n) * 100 / float64(s.max)
			st := th.sessions.Evaluate(pct)
			short := fmt.Sprintf("%s %d of %d", s.name, s.n, s.max)
			add(st, short, fmt.Sprintf("%s (%s%%)", short, formatPct(pct)))
			perf = append(perf,
				check.Perfdata{Label: prefix + s.label, Value: float64(s.n), Min: check.Float(0), Max: check.Float(float64(s.max))},
				check.Perfdata{Label: prefix + s.label + "_usage", Value: math.Round(pct*100) / 100, UOM: "%", Warn: th.sessions.Warn, Crit: th.sessions.Crit})
		}
	}

	for _, mem := range []pkcs11probe.Memory{t.Private(), t.Public()} {
		if !mem.Free.Known() && !mem.Total.Known() {
			note(mem.Kind + " memory: not reported")
			continue
		}
		e := evalMemory(tr, t.Label, mem, 0, th.memory)
		if !e.ok {
			note(mem.Kind + " memory: " + e.text)
			continue
		}
		short := fmt.Sprintf("%s memory %d%% used", mem.Kind, wholePercent(e.used, e.total))
		add(e.status, short, fmt.Sprintf("%s (%d of %d bytes)", short, e.used, e.total))
		perf = append(perf,
			check.Perfdata{Label: prefix + mem.Kind + "_used", Value: float64(e.used), UOM: "B", Min: check.Float(0), Max: check.Float(float64(e.total))},
			check.Perfdata{Label: prefix + mem.Kind + "_usage", Value: math.Round(e.pct*100) / 100, UOM: "%", Warn: th.memory.Warn, Crit: th.memory.Crit})
	}

	switch off, ok := t.ClockOffset(); {
	case !t.HasClock():
		note("clock: none on this token")
	case !ok:
		add(check.Warning, "clock unreadable", fmt.Sprintf("clock unreadable: the token gives %q, not YYYYMMDDhhmmss", t.UTCTime))
	default:
		drift := math.Abs(off.Seconds())
		st := th.clock.Evaluate(drift)
		dir := "ahead of"
		if off < 0 {
			dir = "behind"
		}
		short := fmt.Sprintf("clock %s %s this host", formatSeconds(drift), dir)
		if off == 0 {
			short = "clock in step with this host"
		}
		add(st, short, fmt.Sprintf("%s (token %s, host %s)", short, t.Clock.Format(time.RFC3339), t.ReadAt.UTC().Truncate(time.Second).Format(time.RFC3339)))
		perf = append(perf, check.Perfdata{Label: prefix + "clock_drift", Value: drift, UOM: "s", Warn: th.clock.Warn, Crit: th.clock.Crit})
	}
	return items, perf
}

func formatPct(v float64) string     { return fmt.Sprintf("%.2f", v) }
func formatSeconds(v float64) string { return fmt.Sprintf("%gs", v) }

// tokenResult evaluates every selected token.
func tokenResult(tr *check.Trace, s *p11Session, th tokenThresholds, all bool) check.Result {
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
		items, p := tokenHealth(tr, t, th, prefix)
		perf = append(perf, p...)
		var st []check.Status
		var bad, good []string
		for _, it := range items {
			if it.info {
				continue
			}
			st = append(st, it.status)
			if it.status == check.OK {
				good = append(good, it.short)
			} else {
				bad = append(bad, it.short)
			}
		}
		status := check.Worst(st...)
		states = append(states, status)
		head := fmt.Sprintf("token %s in slot %d", displayLabel(t.Label), t.Slot)
		var text string
		if status == check.OK {
			okCount++
			text = head + " is fine: " + strings.Join(good, ", ")
		} else {
			text = head + ": " + strings.Join(bad, ", ")
			problems = append(problems, text)
		}
		single = text
		long = append(long, fmt.Sprintf("%s: %s; model %s, serial %s, manufacturer %s, hardware %s, firmware %s",
			head, status, orNone(t.Model), orNone(t.Serial), orNone(t.Manufacturer), t.HardwareVersion, t.FirmwareVersion))
		long = append(long, "  flags: "+strings.Join(t.Flags.Names(), ", "))
		for _, it := range items {
			d := it.detail
			if d == "" {
				d = it.short
			}
			if it.info {
				long = append(long, "  "+d)
			} else {
				long = append(long, "  "+it.status.String()+": "+d)
			}
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

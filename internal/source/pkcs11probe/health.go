package pkcs11probe

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// The default ranges (Monitoring Plugins syntax) a token is judged by: p11memmon's memory
// defaults (warning above 75 %, critical above 90 %), sessions in percent of the maximum,
// and the clock drift in seconds either way.
const (
	DefaultMemoryWarn   = "75"
	DefaultMemoryCrit   = "90"
	DefaultSessionsWarn = "80"
	DefaultSessionsCrit = "95"
	DefaultClockWarn    = "60"
	DefaultClockCrit    = "300"
)

// Thresholds are the ranges a token's figures are judged by.
type Thresholds struct {
	Memory   check.Threshold // memory in use, in percent of the total
	Sessions check.Threshold // sessions in use, in percent of the maximum
	Clock    check.Threshold // the token's clock against the host's, in seconds either way
}

// DefaultThresholds returns the Default* ranges.
func DefaultThresholds() Thresholds {
	pair := func(w, c string) check.Threshold {
		return check.Threshold{Warn: check.MustRange(w), Crit: check.MustRange(c)}
	}
	return Thresholds{
		Memory:   pair(DefaultMemoryWarn, DefaultMemoryCrit),
		Sessions: pair(DefaultSessionsWarn, DefaultSessionsCrit),
		Clock:    pair(DefaultClockWarn, DefaultClockCrit),
	}
}

// Finding IDs. A PIN finding is "pin.WHO.KEY", WHO being user or so and KEY a
// PINProblem's Key: pin.user.locked, pin.so.final_try, pin.user.count_low, ...
const (
	IDNotInitialized = "token.not_initialized" // CKF_TOKEN_INITIALIZED is not set
	IDErrorState     = "token.error_state"     // CKF_ERROR_STATE
	IDNotPresent     = "token.not_present"     // the slot's token went away (CKR_TOKEN_NOT_PRESENT)
	IDUnreadable     = "token.unreadable"      // C_GetTokenInfo failed otherwise
	IDPIN            = "pin"                   // no lockout flag set (OK)
	IDUserPINNotInit = "pin.user.not_initialized"
	IDSessions       = "sessions"
	IDRWSessions     = "sessions.rw"
	IDMemoryPrivate  = "memory.private"
	IDMemoryPublic   = "memory.public"
	IDClock          = "clock"
)

// Finding is one thing found about a token.
type Finding struct {
	ID     string
	Status check.Status
	// Info marks a fact that takes no part in the token's status: a figure the token does
	// not report (Status UNKNOWN) or a remark (Status OK).
	Info bool
	// Summary is the short text, for a one-line summary ("user PIN locked"); empty for Info.
	Summary string
	// Text says it in full, with what to do ("user PIN locked: applications cannot ...").
	Text string
	// Perf holds the figures, labelled without any token prefix ("sessions",
	// "private_usage"), with the ranges they were judged by.
	Perf []check.Perfdata
	// Memory is the evaluation behind a memory finding, when the token reported at least one
	// of the two figures.
	Memory *MemoryUsage
}

// Health is a token's health: its findings, and the worst status among those that are not
// Info (OK when there are none).
type Health struct {
	Token    Token
	Status   check.Status
	Findings []Finding
}

// TokenHealth judges what a token reports about itself: initialisation and error state,
// the PIN lockout flags, sessions and memory in use against th, and its clock against the
// host's (Token.ReadAt). A token that is not initialised has that one finding only.
func TokenHealth(t Token, th Thresholds) (h Health) {
	h.Token = t
	add := func(f Finding) {
		if f.Text == "" {
			f.Text = f.Summary
		}
		h.Findings = append(h.Findings, f)
	}
	note := func(id string, st check.Status, text string, perf ...check.Perfdata) {
		add(Finding{ID: id, Status: st, Info: true, Text: text, Perf: perf})
	}
	defer func() { h.Status = worst(h.Findings) }()

	if !t.Initialized() {
		add(Finding{ID: IDNotInitialized, Status: check.Critical, Summary: "not initialised",
			Text: "not initialised (no CKF_TOKEN_INITIALIZED): it holds no keys; initialise it"})
		return h
	}
	if t.Flags.Has(FlagErrorState) {
		add(Finding{ID: IDErrorState, Status: check.Critical, Summary: "in an error state",
			Text: "in an error state (CKF_ERROR_STATE): see the HSM's logs and its vendor's instructions"})
	}
	pins := t.PINProblems()
	for _, p := range pins {
		st := check.Warning
		if p.Critical {
			st = check.Critical
		}
		add(Finding{ID: "pin." + strings.ToLower(p.Who) + "." + p.Key, Status: st, Summary: p.Who + " " + p.Text,
			Text: fmt.Sprintf("%s %s: %s", p.Who, p.Text, p.Advice)})
	}
	if len(pins) == 0 {
		add(Finding{ID: IDPIN, Status: check.OK, Summary: "no PIN lockout flags"})
	}
	if !t.Flags.Has(FlagUserPINInitialized) {
		note(IDUserPINNotInit, check.OK, "the user PIN is not initialised (no CKF_USER_PIN_INITIALIZED): applications cannot log in yet")
	}

	for _, s := range []struct {
		id, name, label string
		n, max          Ulong
	}{{IDSessions, "sessions", "sessions", t.Sessions, t.MaxSessions}, {IDRWSessions, "read/write sessions", "rw_sessions", t.RWSessions, t.MaxRWSessions}} {
		switch {
		case !s.n.Known():
			note(s.id, check.Unknown, fmt.Sprintf("%s in use: not reported (maximum %s)", s.name, Limit(s.max)))
		case !s.max.Known() || s.max == 0:
			note(s.id, check.OK, fmt.Sprintf("%s in use: %d (maximum %s)", s.name, s.n, Limit(s.max)),
				check.Perfdata{Label: s.label, Value: float64(s.n), Min: check.Float(0)})
		default:
			pct := float64(s.n) * 100 / float64(s.max)
			short := fmt.Sprintf("%s %d of %d", s.name, s.n, s.max)
			add(Finding{ID: s.id, Status: th.Sessions.Evaluate(pct), Summary: short,
				Text: fmt.Sprintf("%s (%.2f%%)", short, pct),
				Perf: []check.Perfdata{
					{Label: s.label, Value: float64(s.n), Min: check.Float(0), Max: check.Float(float64(s.max))},
					{Label: s.label + "_usage", Value: round2(pct), UOM: "%", Warn: th.Sessions.Warn, Crit: th.Sessions.Crit},
				}})
		}
	}

	for _, mem := range []Memory{t.Private(), t.Public()} {
		id := "memory." + mem.Kind
		if !mem.Free.Known() && !mem.Total.Known() {
			note(id, check.Unknown, mem.Kind+" memory: not reported")
			continue
		}
		u := mem.Usage(0, th.Memory)
		if u.Problem != MemoryFine {
			add(Finding{ID: id, Status: check.Unknown, Info: true, Text: mem.Kind + " memory: " + u.Reason(), Memory: &u})
			continue
		}
		short := fmt.Sprintf("%s memory %d%% used", mem.Kind, u.Whole)
		add(Finding{ID: id, Status: u.Status, Summary: short, Memory: &u,
			Text: fmt.Sprintf("%s (%d of %d bytes)", short, u.Used, u.Total),
			Perf: []check.Perfdata{
				{Label: mem.Kind + "_used", Value: float64(u.Used), UOM: "B", Min: check.Float(0), Max: check.Float(float64(u.Total))},
				{Label: mem.Kind + "_usage", Value: round2(u.Percent), UOM: "%", Warn: th.Memory.Warn, Crit: th.Memory.Crit},
			}})
	}

	switch off, ok := t.ClockOffset(); {
	case !t.HasClock():
		note(IDClock, check.OK, "clock: none on this token")
	case !ok:
		add(Finding{ID: IDClock, Status: check.Warning, Summary: "clock unreadable",
			Text: fmt.Sprintf("clock unreadable: the token gives %q, not YYYYMMDDhhmmss", t.UTCTime)})
	default:
		drift := math.Abs(off.Seconds())
		dir := "ahead of"
		if off < 0 {
			dir = "behind"
		}
		short := fmt.Sprintf("clock %gs %s this host", drift, dir)
		if off == 0 {
			short = "clock in step with this host"
		}
		add(Finding{ID: IDClock, Status: th.Clock.Evaluate(drift), Summary: short,
			Text: fmt.Sprintf("%s (token %s, host %s)", short, t.Clock.Format(time.RFC3339), t.ReadAt.UTC().Truncate(time.Second).Format(time.RFC3339)),
			Perf: []check.Perfdata{{Label: "clock_drift", Value: drift, UOM: "s", Warn: th.Clock.Warn, Crit: th.Clock.Crit}}})
	}
	return h
}

// SlotHealth is the health of a slot whose token could not be read (Report.Failed): one
// UNKNOWN finding, token.not_present when the token went away, else token.unreadable.
func SlotHealth(slot uint, err error) Health {
	id := IDUnreadable
	if IsRV(err, RVTokenNotPresent) {
		id = IDNotPresent
	}
	text := err.Error()
	return Health{Token: Token{Slot: slot}, Status: check.Unknown,
		Findings: []Finding{{ID: id, Status: check.Unknown, Summary: text, Text: text}}}
}

func worst(fs []Finding) check.Status {
	var st []check.Status
	for _, f := range fs {
		if !f.Info {
			st = append(st, f.Status)
		}
	}
	return check.Worst(st...)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// MemoryProblem says why a kind of memory cannot be judged.
type MemoryProblem int

// The memory problems.
const (
	MemoryFine             MemoryProblem = iota // judged
	MemoryFreeUnavailable                       // the token does not report the free memory
	MemoryTotalUnavailable                      // ... nor the total, and none was given
	MemoryTotalZero                             // the total is 0 bytes, and none was given
	MemoryFreeAboveTotal                        // more is free than the total
)

// MemoryUsage is one kind of memory evaluated: used = total - free, in percent of total.
type MemoryUsage struct {
	Kind string // "private" or "public"
	// Free and Reported are the figures the token gives; Free is valid unless the problem
	// is MemoryFreeUnavailable.
	Free     uint64
	Reported Ulong
	// Total is what the usage is computed on: the total given to Usage, else Reported.
	Total    uint64
	Override bool // Total was given, not reported
	Used     uint64
	Percent  float64 // exact, compared with the thresholds
	Whole    uint64  // floor(Used*100/Total), in exact integer arithmetic
	Problem  MemoryProblem
	// Status is the threshold's verdict, UNKNOWN when there is a problem.
	Status check.Status
}

// Usage computes the memory in use and judges its percentage by th. total, when not 0,
// replaces the total the token reports (a token that reports a wrong one: the Luna SA 5
// may).
func (m Memory) Usage(total uint64, th check.Threshold) MemoryUsage {
	u := MemoryUsage{Kind: m.Kind, Reported: m.Total, Status: check.Unknown}
	if !m.Free.Known() {
		u.Problem = MemoryFreeUnavailable
		return u
	}
	u.Free = uint64(m.Free)
	switch {
	case total != 0:
		u.Total, u.Override = total, true
	case !m.Total.Known():
		u.Problem = MemoryTotalUnavailable
		return u
	case m.Total == 0:
		u.Problem = MemoryTotalZero
		return u
	default:
		u.Total = uint64(m.Total)
	}
	if u.Free > u.Total {
		u.Problem = MemoryFreeAboveTotal
		return u
	}
	u.Used = u.Total - u.Free
	u.Percent = float64(u.Used) * 100 / float64(u.Total)
	hi, lo := bits.Mul64(u.Used, 100)
	u.Whole, _ = bits.Div64(hi, lo, u.Total) // hi < Total since Used <= Total
	u.Status = th.Evaluate(u.Percent)
	return u
}

// Reason says what is wrong ("the token does not report its free private memory
// (CK_UNAVAILABLE_INFORMATION)"); "" for MemoryFine.
func (u MemoryUsage) Reason() string {
	switch u.Problem {
	case MemoryFreeUnavailable:
		return fmt.Sprintf("the token does not report its free %s memory (CK_UNAVAILABLE_INFORMATION)", u.Kind)
	case MemoryTotalUnavailable:
		return fmt.Sprintf("the token does not report its total %s memory (CK_UNAVAILABLE_INFORMATION)", u.Kind)
	case MemoryTotalZero:
		return fmt.Sprintf("the token reports a total of 0 bytes of %s memory", u.Kind)
	case MemoryFreeAboveTotal:
		if u.Override {
			return fmt.Sprintf("the token reports more free %s memory (%d bytes) than the %d bytes in total given", u.Kind, u.Free, u.Total)
		}
		return fmt.Sprintf("the token reports more free %s memory (%d bytes) than in total (%d bytes)", u.Kind, u.Free, u.Total)
	}
	return ""
}

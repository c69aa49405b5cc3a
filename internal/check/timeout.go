package check

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is the plugins' usual -t default.
const DefaultTimeout = 10 * time.Second

// Timeout is the -t option: how long a check may take, and the state it reports when it
// takes longer (UNKNOWN unless written as -t 10:CRITICAL and the like).
type Timeout struct {
	After time.Duration
	State Status
}

// ParseTimeout reads -t: seconds ("10", "0.5") or a Go duration ("500ms", "2s"),
// optionally followed by ":STATE" (ok, warning, critical, unknown).
func ParseTimeout(s string) (Timeout, error) {
	t := Timeout{State: Unknown}
	v, state, hasState := strings.Cut(strings.TrimSpace(s), ":")
	if hasState {
		st, err := ParseStatus(state)
		if err != nil {
			return Timeout{}, fmt.Errorf("timeout %q: %w", s, err)
		}
		t.State = st
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && number.MatchString(v) {
		if f > 24*3600 {
			f = -1 // refused below; converting a huge float to a Duration would overflow
		}
		t.After = time.Duration(f * float64(time.Second))
	} else if d, err := time.ParseDuration(v); err == nil {
		t.After = d
	} else {
		return Timeout{}, fmt.Errorf("timeout %q: give seconds (10, 0.5) or a duration (500ms)", s)
	}
	if t.After <= 0 || t.After > 24*time.Hour {
		return Timeout{}, fmt.Errorf("timeout %q: must be more than zero and at most a day", s)
	}
	return t, nil
}

// String writes the duration in seconds, as the timeout message shows it: "10s", "0.5s".
func (t Timeout) String() string {
	return formatFloat(t.After.Seconds()) + "s"
}

// Run calls probe in a goroutine of its own and returns its result. When t.After passes first
// (or ctx ends), Run returns at once with t.State and the summary "timed out after 10s",
// followed by what detail returns when detail is not nil (for instance the library call that
// did not return). The probe's context is cancelled then; a probe stuck in a C call cannot
// notice and stays blocked with its OS thread until the call returns, so Run never waits for
// it: a plugin exits right after writing the result, which ends it. A panic in the probe
// becomes an UNKNOWN result.
func (t Timeout) Run(ctx context.Context, probe func(context.Context) Result, detail func() string) Result {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan Result, 1) // buffered: a late probe never blocks on the send
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- Unknownf("internal error: %v (please report it)", v)
			}
		}()
		done <- probe(pctx)
	}()
	if t.After <= 0 {
		t.After = DefaultTimeout
	}
	timer := time.NewTimer(t.After)
	defer timer.Stop()
	var why string
	select {
	case r := <-done:
		return r
	case <-timer.C:
		why = "timed out after " + t.String()
	case <-ctx.Done():
		why = "interrupted (" + context.Cause(ctx).Error() + ")"
	}
	select { // a result that arrived together with the deadline still counts
	case r := <-done:
		return r
	default:
	}
	if detail != nil {
		if d := detail(); d != "" {
			why += " " + d
		}
	}
	return Result{Status: t.State, Summary: why}
}

// Verbosity levels of -v, after the guidelines.
const (
	Quiet   = 0 // one line: the status and the summary
	Verbose = 1 // -v: more detail (for check memory, p11memmon's step lines)
	Config  = 2 // -vv: the configuration and what was found, for debugging a setup
	Debug   = 3 // -vvv: every call the check makes, for diagnosing the plugin
)

// Trace writes -v output as the check runs, so that a check that hangs shows how far it got.
// It is safe for concurrent use; after Close it writes nothing more, so a probe goroutine
// that comes back from a stuck call after the result was written cannot add to the output.
// It also remembers the step in progress for the timeout message. A nil *Trace does nothing.
type Trace struct {
	mu     sync.Mutex
	w      io.Writer
	level  int
	closed bool
	step   string
}

// NewTrace writes lines of level 1 to level (the -v count) to w.
func NewTrace(w io.Writer, level int) *Trace { return &Trace{w: w, level: level} }

// Enabled reports whether lines of this level are written.
func (t *Trace) Enabled(level int) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closed && level <= t.level
}

// Printf writes one line when level is enabled.
func (t *Trace) Printf(level int, format string, args ...any) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || level > t.level || level <= Quiet {
		return
	}
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	_, _ = io.WriteString(t.w, clean(line, false))
}

// Step records what the check is doing now (a library call, say); Current returns it.
func (t *Trace) Step(format string, args ...any) {
	if t == nil {
		return
	}
	s := fmt.Sprintf(format, args...)
	t.mu.Lock()
	t.step = s
	t.mu.Unlock()
}

// Current returns the last step recorded.
func (t *Trace) Current() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step
}

// Close stops all further output. Call it before writing the result.
func (t *Trace) Close() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

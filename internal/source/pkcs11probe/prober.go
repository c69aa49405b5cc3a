package pkcs11probe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Report is one probe of a library: what it says about itself and its tokens.
type Report struct {
	Library string `json:"library"`
	Info    Info   `json:"info"`
	// Tokens holds every slot with a token present, initialised or not, in slot list order.
	Tokens []Token `json:"tokens"`
	// Failed holds the slots whose token could not be read (a token removed meanwhile, a
	// device error), with the error.
	Failed map[uint]error `json:"-"`
}

// StuckError says a library call has not returned: by the time the context ended, or
// from an earlier probe that a Prober still sees blocked.
type StuckError struct {
	Library string
	Call    string // the call in progress, "C_GetTokenInfo (slot 1)"
	Cause   error  // the context's error, for a probe that timed out now
}

func (e *StuckError) Error() string {
	msg := fmt.Sprintf("the PKCS#11 library %s did not return from %s", e.Library, e.Call)
	if e.Cause != nil {
		msg += " (" + e.Cause.Error() + ")"
	} else {
		msg += " (an earlier probe is still blocked there)"
	}
	return msg
}

func (e *StuckError) Unwrap() error { return e.Cause }

// Probe loads the library, reads its information and every token present, then finalizes
// and unloads it. It returns the tokens in slot list order. When ctx ends first, Probe
// returns a *StuckError wrapping ctx's error at once; the goroutine doing the calls stays
// blocked in C until the library returns, and then finalizes and unloads the library.
//
// Calls for one library must not overlap: a Prober serialises them and refuses new probes
// of a library that is still stuck.
func Probe(ctx context.Context, lib string) ([]Token, error) {
	r, err := (&Prober{}).Probe(ctx, lib)
	if err != nil {
		return nil, err
	}
	return r.Tokens, nil
}

// Prober probes libraries on a schedule (the daemon). It runs one probe per library at a
// time, and while a probe is stuck in a library it answers StuckError for that library at
// once instead of blocking another goroutine behind it. The zero value is ready to use.
type Prober struct {
	mu   sync.Mutex
	busy map[string]*progress
}

type progress struct {
	mu   sync.Mutex
	call string
}

func (p *progress) set(call string) {
	p.mu.Lock()
	p.call = call
	p.mu.Unlock()
}

func (p *progress) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.call
}

type outcome struct {
	r   Report
	err error
}

// Probe is the package's Probe with the Prober's bookkeeping, and it returns the whole report.
func (pr *Prober) Probe(ctx context.Context, lib string) (Report, error) {
	pr.mu.Lock()
	if pr.busy == nil {
		pr.busy = map[string]*progress{}
	}
	if prev, ok := pr.busy[lib]; ok {
		pr.mu.Unlock()
		return Report{}, &StuckError{Library: lib, Call: prev.get()}
	}
	prog := &progress{call: "dlopen"}
	pr.busy[lib] = prog
	pr.mu.Unlock()

	done := make(chan outcome, 1) // buffered: a late probe never blocks on the send
	go func() {
		defer func() {
			pr.mu.Lock()
			delete(pr.busy, lib)
			pr.mu.Unlock()
		}()
		r, err := probe(ctx, lib, prog.set)
		done <- outcome{r, err}
	}()
	select {
	case o := <-done:
		return o.r, o.err
	case <-ctx.Done():
		select {
		case o := <-done:
			return o.r, o.err
		default:
		}
		return Report{}, &StuckError{Library: lib, Call: prog.get(), Cause: context.Cause(ctx)}
	}
}

// Busy reports whether a probe of the library is running (or stuck), and the call it is in.
func (pr *Prober) Busy(lib string) (call string, busy bool) {
	pr.mu.Lock()
	p, ok := pr.busy[lib]
	pr.mu.Unlock()
	if !ok {
		return "", false
	}
	return p.get(), true
}

// probe does the calls, checking ctx between them.
func probe(ctx context.Context, lib string, before func(string)) (r Report, err error) {
	r.Library = lib
	if err := ctx.Err(); err != nil {
		return r, err
	}
	m, err := Open(lib)
	if err != nil {
		return r, err
	}
	m.Before = before
	defer func() {
		if cerr := m.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := m.Initialize(); err != nil {
		return r, err
	}
	if r.Info, err = m.Info(); err != nil {
		// C_GetInfo is informative only; some libraries fail it and still work.
		r.Info = Info{}
	}
	slots, err := m.SlotsWithToken()
	if err != nil {
		return r, err
	}
	for _, s := range slots {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		t, err := m.Token(s)
		if err != nil {
			if r.Failed == nil {
				r.Failed = map[uint]error{}
			}
			r.Failed[s] = err
			continue
		}
		r.Tokens = append(r.Tokens, t)
	}
	if len(r.Tokens) == 0 && len(r.Failed) > 0 {
		return r, errors.Join(failedErrors(r.Failed)...)
	}
	return r, nil
}

func failedErrors(m map[uint]error) []error {
	slots := slices.Sorted(maps.Keys(m))
	out := make([]error, 0, len(slots))
	for _, s := range slots {
		out = append(out, m[s])
	}
	return out
}

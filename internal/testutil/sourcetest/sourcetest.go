// Package sourcetest runs a component.Source in a test and collects what it emits: the
// harness the tests of every log source share (files, syslog, named pipes).
package sourcetest

import (
	"context"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Runner is one source running until Stop.
type Runner struct {
	t    testing.TB
	wait time.Duration
	// Recs receives every emitted record; Done receives Run's result.
	Recs chan component.Record
	Done chan error
	// Describe, when set, adds the records got so far to Take's timeout message.
	Describe func([]component.Record) string
	cancel   context.CancelFunc
}

// Start runs src with an emit that checks each record (check may be nil) and queues it
// (buffer records at most; a full buffer blocks the source, as the pipeline does). wait
// bounds Stop and Take. Stop runs at the end of the test.
func Start(t testing.TB, src component.Source, buffer int, wait time.Duration, check func(component.Record)) *Runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{t: t, wait: wait, Recs: make(chan component.Record, buffer), Done: make(chan error, 1), cancel: cancel}
	go func() {
		r.Done <- src.Run(ctx, func(ctx context.Context, rec component.Record) error {
			if check != nil {
				check(rec)
			}
			select {
			case r.Recs <- rec:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(r.Stop)
	return r
}

// Stop ends Run and checks that it returned nil, promptly. Calling it twice is harmless.
func (r *Runner) Stop() {
	r.t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.Done:
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
	case <-time.After(r.wait):
		r.t.Fatal("Run did not return after its context ended")
	}
}

// Take returns the next n records, failing the test when they do not come in time.
func (r *Runner) Take(n int) []component.Record {
	r.t.Helper()
	out := make([]component.Record, 0, n)
	deadline := time.NewTimer(r.wait)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case rec := <-r.Recs:
			out = append(out, rec)
		case err := <-r.Done:
			r.t.Fatalf("Run returned %v after %d of %d records", err, len(out), n)
		case <-deadline.C:
			if r.Describe != nil {
				r.t.Fatalf("got %d of %d records in %v: %s", len(out), n, r.wait, r.Describe(out))
			}
			r.t.Fatalf("got %d of %d records", len(out), n)
		}
	}
	return out
}

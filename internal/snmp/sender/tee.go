package sender

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Writer is where a Tee passes every event on (a scan's JSON or table output).
type Writer interface {
	Write(ev *event.Event) error
	Flush() error
}

// Tee writes events to next and sends their Luna notifications through s: "hsmwatch scan
// --trap-target" replaying a log into an NMS. A notification that cannot be sent does not
// stop the scan: it is counted, the first error of each kind (a category without OID, a
// send failure) is written to warn, and Failed says so.
type Tee struct {
	next   Writer
	ctx    context.Context
	s      *Sink
	warn   io.Writer
	warned map[string]bool
	failed bool
}

// NewTee sends through s while writing to next.
func NewTee(ctx context.Context, next Writer, s *Sink, warn io.Writer) *Tee {
	return &Tee{next: next, ctx: ctx, s: s, warn: warn, warned: map[string]bool{}}
}

// Write passes ev on, then sends its notification.
func (t *Tee) Write(ev *event.Event) error {
	if err := t.next.Write(ev); err != nil {
		return err
	}
	if err := t.s.Send(t.ctx, ev); err != nil {
		t.failed = true
		key := "send"
		var no NoOIDError
		if errors.As(err, &no) {
			key = no.Category
		}
		if !t.warned[key] {
			t.warned[key] = true
			fmt.Fprintf(t.warn, "hsmwatch: %v\n", err)
		}
	}
	return nil
}

// Flush flushes next.
func (t *Tee) Flush() error { return t.next.Flush() }

// Failed reports whether a notification could not be sent.
func (t *Tee) Failed() bool { return t.failed }

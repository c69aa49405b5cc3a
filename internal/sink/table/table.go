// Package table writes events as aligned text columns for a person at a terminal.
package table

import (
	"bufio"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/termsafe"
)

// Writer writes one row per event under a header; call Flush at the end.
type Writer struct {
	w      *bufio.Writer
	header bool
	// Width is the most characters a row may take; the message is cut to fit. 0: no limit.
	Width int
}

// New returns a Writer on w.
func New(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

const rowFormat = "%-25s %-14s %-11s %-8s %-16s %s\n"

// level is the classified level, or the syslog severity of an unclassified event; a
// clear shows "cleared" (its level is the alarm's, for the sinks' filters, not a failure).
func level(ev *event.Event) string {
	if ev.Assert == event.False {
		return "cleared"
	}
	if ev.Level != "" {
		return ev.Level
	}
	return dash(ev.Severity)
}

// what names the part of the HSM (classified) or the process that logged the line.
func what(ev *event.Event) string {
	if ev.Component != "" {
		return ev.Component
	}
	return dash(ev.Process)
}

// Write writes one row.
func (w *Writer) Write(ev *event.Event) error {
	if !w.header {
		w.header = true
		if _, err := fmt.Fprintf(w.w, rowFormat, "TIME", "HOST", "SOURCE", "LEVEL", "COMPONENT", "MESSAGE"); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	ts := "-"
	if !ev.Time.IsZero() {
		ts = ev.Time.Format(time.RFC3339)
	}
	msg := ev.Message
	if ev.Source == event.SourceUnparsed {
		msg = ev.Reason + ": " + ev.Raw
	}
	switch ev.Assert {
	case event.True:
		msg = "[ASSERT] " + msg
	case event.False:
		msg = "[CLEAR] " + msg
	}
	if ev.Notification != "" {
		msg = "[" + ev.Notification + "] " + msg
	}
	if ev.Test {
		msg = "[TEST] " + msg
	}
	msg = clip(termsafe.String(msg), w.Width-82)
	// Every column comes from outside (a host name in a syslog header, a process name):
	// none may reach the terminal with a control character in it.
	_, err := fmt.Fprintf(w.w, rowFormat, ts, termsafe.String(dash(ev.Host)), termsafe.String(ev.Source),
		termsafe.String(level(ev)), termsafe.String(what(ev)), msg)
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

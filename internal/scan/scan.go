// Package scan is the job behind "hsmwatch scan": read inputs, parse every line into an
// event, filter, and write the events out, with a summary of what was read.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/source"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Sink receives the events that pass the filters.
type Sink interface {
	Write(*event.Event) error
	Flush() error
}

// Options configure a scan.
type Options struct {
	Format      string         // a parse format name; "auto" by default
	Location    *time.Location // zone of timestamps without offset
	Now         time.Time      // year inference for standard input; time.Now() by default
	Since       time.Time      // keep events at or after (zero: no bound)
	Until       time.Time      // keep events before (zero: no bound)
	Host        string         // keep events whose host matches this glob (case-insensitive)
	DefaultHost string         // host for events whose input names none
	// Catalog classifies every event; nil leaves events unclassified.
	Catalog *classify.Catalog
	// State, when set, is fed every event that passes the time and host filters (before
	// Only), so that alarms, sessions and counts see the whole record.
	State *state.Tracker
	// SkipIgnored leaves out the events that State's ignore list matched.
	SkipIgnored bool
	// Observed, when set, sees every event State observed with what State decided (the
	// HTML report draws the timelines and the alarms' spans from them).
	Observed func(*event.Event, state.Decision)
	// Only keeps "significant" events (level warning or above, a trap notification, or an
	// assert or clear) or "alarms" (events that assert or clear an alarm); "" keeps all.
	Only string
}

// Summary counts what a scan read.
type Summary struct {
	Lines    int64
	Written  int64
	ByInput  map[string]int64
	BySource map[string]int64
	Failed   []error // inputs that could not be read (or read to the end)
	Elapsed  time.Duration
}

// Run scans every input ("-" is stdin) into sink. An input that cannot be read is
// recorded in Summary.Failed and the scan goes on with the next one; the returned error
// is only for a failing sink or cancellation.
func Run(ctx context.Context, o Options, inputs []string, stdin io.Reader, sink Sink) (*Summary, error) {
	start := time.Now()
	if o.Format == "" {
		o.Format = parse.Auto
	}
	if o.Now.IsZero() {
		o.Now = start
	}
	if _, err := parse.New(o.Format, parse.Options{}); err != nil {
		return nil, err
	}
	sum := &Summary{ByInput: map[string]int64{}, BySource: map[string]int64{}}
	for _, in := range inputs {
		err := source.Open(ctx, in, stdin, func(s source.Stream) error {
			return scanStream(ctx, o, s, sink, sum)
		})
		var se sinkError
		switch {
		case errors.As(err, &se):
			return sum, se.err
		case ctx.Err() != nil:
			return sum, ctx.Err()
		case err != nil:
			sum.Failed = append(sum.Failed, err)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, sink.Flush()
}

// sinkError marks a failure to write, which stops the scan, from a failure to read,
// which only stops one input.
type sinkError struct{ err error }

func (e sinkError) Error() string { return e.err.Error() }

func scanStream(ctx context.Context, o Options, s source.Stream, sink Sink, sum *Summary) error {
	ref := s.ModTime
	if ref.IsZero() {
		ref = o.Now
	}
	p, err := parse.New(o.Format, parse.Options{Location: o.Location, Reference: ref})
	if err != nil {
		return err
	}
	var ev event.Event
	// The input reference is built in one buffer and copied once; the counts by input
	// and by source are kept here and added to the summary at the end (a stream has one
	// input, and most of its lines one source), so that no map is hashed per line.
	input := []byte(s.Name + ":")
	prefix := len(input)
	var lines int64
	bySource := map[string]*int64{}
	var lastSource string
	var lastCount *int64
	defer func() {
		sum.Lines += lines
		sum.ByInput[s.Name] += lines
		for src, n := range bySource {
			sum.BySource[src] += *n
		}
	}()
	err = source.ReadLines(ctx, s.R, func(l source.Line) error {
		parse.Into(p, string(l.Text), &ev)
		input = strconv.AppendInt(input[:prefix], l.N, 10)
		ev.Input = string(input)
		if l.Truncated > 0 {
			ev.Fields.SetInt("truncated_bytes", l.Truncated)
		}
		if ev.Host == "" {
			ev.Host = o.DefaultHost
		}
		if o.Catalog != nil {
			o.Catalog.Classify(&ev)
		}
		lines++
		if lastCount == nil || ev.Source != lastSource {
			if bySource[ev.Source] == nil {
				bySource[ev.Source] = new(int64)
			}
			lastSource, lastCount = ev.Source, bySource[ev.Source]
		}
		*lastCount++
		if !o.inScope(&ev) {
			return nil
		}
		if o.State != nil {
			d := o.State.Observe(&ev)
			if o.Observed != nil {
				o.Observed(&ev, d)
			}
			if d.Ignored && o.SkipIgnored {
				return nil
			}
		}
		if !o.wanted(&ev) {
			return nil
		}
		sum.Written++
		if err := sink.Write(&ev); err != nil {
			return sinkError{err}
		}
		return nil
	})
	if err != nil {
		var se sinkError
		if errors.As(err, &se) || ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	return nil
}

// inScope applies the time and host filters. Events without a time (bare ALM lines, dmesg
// uptimes) cannot be placed outside a time window and are kept, so a time filter never
// hides an alarm.
func (o Options) inScope(ev *event.Event) bool {
	if !ev.Time.IsZero() {
		if !o.Since.IsZero() && ev.Time.Before(o.Since) {
			return false
		}
		if !o.Until.IsZero() && !ev.Time.Before(o.Until) {
			return false
		}
	}
	if o.Host != "" {
		if ok, _ := path.Match(strings.ToLower(o.Host), strings.ToLower(ev.Host)); !ok {
			return false
		}
	}
	return true
}

// wanted applies --only.
func (o Options) wanted(ev *event.Event) bool {
	switch o.Only {
	case "significant":
		return ev.Significant()
	case "alarms":
		return ev.Assert != event.Unset
	}
	return true
}

// WriteSummary prints the counts by input and by source, and the inputs that failed.
func (s *Summary) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "scan: %d lines read, %d events written, %d inputs failed, %s\n",
		s.Lines, s.Written, len(s.Failed), s.Elapsed.Round(time.Millisecond))
	writeCounts(w, "by input", s.ByInput)
	writeCounts(w, "by source", s.BySource)
	for _, err := range s.Failed {
		fmt.Fprintf(w, "  failed: %v\n", err)
	}
}

func writeCounts(w io.Writer, title string, counts map[string]int64) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "  %s:\n", title)
	for _, k := range keys {
		fmt.Fprintf(w, "    %-40s %d\n", k, counts[k])
	}
}

// ParseTime reads a --since/--until bound: RFC 3339, a date (2006-01-02), a date and time
// without zone (in loc), or a duration before now ("24h", "90m").
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2012-02-29T12:05:01Z), a date (2012-02-29) or a duration before now (24h)", s)
}

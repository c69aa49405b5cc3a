// Package heldout measures the classifier on log lines the catalog was not written from
// (issue 13, point 5): real lines gathered from public sources, each labelled with the
// level an operator would give it before hsmwatch ever saw it (testdata/heldout).
//
// Lines are classified exactly as "hsmwatch scan" does it: through scan.Run, with
// automatic format detection and the catalog given, so that any change to parsing or
// classification (a new parser, a severity floor, new rules) shows in the figures.
package heldout

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/scan"
)

// The targets of issue 13, point 5.
const (
	// SeriousWarnTarget: at least this share of serious lines (labelled critical or
	// major) must be raised to warning or above.
	SeriousWarnTarget = 0.90
	// SeriousMajorTarget: at least this share of serious lines must be raised to major
	// or above.
	SeriousMajorTarget = 0.60
	// RoutineRaisedMax: at most this share of routine lines (labelled info or debug) may
	// be raised to warning or above.
	RoutineRaisedMax = 0.05
)

// Files returns the held-out sets, relative to the repository root, in the order they
// were gathered: lines.tsv first, lines2.tsv (a second, independently gathered set) next.
// Each is measured on its own and all of them together.
func Files() []string {
	return []string{"testdata/heldout/lines.tsv", "testdata/heldout/lines2.tsv", "testdata/heldout/lines3.tsv", "testdata/heldout/lines4.tsv", "testdata/heldout/lines5.tsv", "testdata/heldout/lines6.tsv", "testdata/heldout/lines7.tsv", "testdata/heldout/lines8.tsv", "testdata/heldout/lines9.tsv", "testdata/heldout/lines10.tsv", "testdata/heldout/lines11.tsv", "testdata/heldout/lines12.tsv", "testdata/heldout/lines13.tsv", "testdata/heldout/lines14.tsv", "testdata/heldout/lines15.tsv", "testdata/heldout/lines16.tsv", "testdata/heldout/lines17.tsv", "testdata/heldout/lines18.tsv", "testdata/heldout/lines19.tsv", "testdata/heldout/lines20.tsv", "testdata/heldout/lines21.tsv", "testdata/heldout/lines22.tsv", "testdata/heldout/lines23.tsv", "testdata/heldout/lines24.tsv", "testdata/heldout/lines25.tsv", "testdata/heldout/lines26.tsv", "testdata/heldout/lines27.tsv"}
}

// Levels in decreasing order of severity.
var Levels = []string{"critical", "major", "minor", "warning", "info", "debug"}

// Rank orders levels: critical 6 ... debug 1; no level (unclassified or unparsed) is 0.
func Rank(level string) int {
	for i, l := range Levels {
		if l == level {
			return len(Levels) - i
		}
	}
	return 0
}

// Line is one labelled line of the held-out file.
type Line struct {
	N      int    // line number in the file
	Label  string // the level an operator would give it
	Source string // where the line was found
	Text   string // the log line, verbatim
}

// Serious reports whether the line is labelled critical or major.
func (l Line) Serious() bool { return Rank(l.Label) >= Rank("major") }

// Routine reports whether the line is labelled info or debug.
func (l Line) Routine() bool { return Rank(l.Label) <= Rank("info") }

// Load reads a held-out file: tab-separated level, source and line; blank lines and
// lines starting with # are skipped.
func Load(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses a held-out file from r; name is used in errors.
func Read(r io.Reader, name string) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		s := sc.Text()
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		parts := strings.SplitN(s, "\t", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want level<TAB>source<TAB>line", name, n)
		}
		l := Line{N: n, Label: parts[0], Source: strings.TrimSpace(parts[1]), Text: parts[2]}
		switch {
		case Rank(l.Label) == 0:
			return nil, fmt.Errorf("%s:%d: level %q is none of %s", name, n, l.Label, strings.Join(Levels, ", "))
		case l.Source == "":
			return nil, fmt.Errorf("%s:%d: no source", name, n)
		case strings.TrimSpace(l.Text) == "":
			return nil, fmt.Errorf("%s:%d: no line", name, n)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// Result is what hsmwatch made of one line.
type Result struct {
	Line
	Level     string // the level given; "" when no rule matched or the line did not parse
	Rule      string // the rule that matched, if any
	EvSource  string // the event source the parser chose (luna-syslog, rfc3164, unparsed, ...)
	Component string
}

// Raised reports whether the line was given warning or above.
func (r Result) Raised() bool { return Rank(r.Level) >= Rank("warning") }

// Major reports whether the line was given major or above.
func (r Result) Major() bool { return Rank(r.Level) >= Rank("major") }

// ref is the reference time for year inference: the figures must not depend on the day
// they are measured.
var ref = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// Classify runs every line through scan.Run with cat, the way "hsmwatch scan" does, and
// returns one result per line, in order.
func Classify(ctx context.Context, lines []Line, cat *classify.Catalog) ([]Result, error) {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	sink := &collector{}
	o := scan.Options{Format: parse.Auto, Location: time.UTC, Now: ref, Catalog: cat}
	sum, err := scan.Run(ctx, o, []string{"-"}, strings.NewReader(b.String()), sink)
	if err != nil {
		return nil, err
	}
	if len(sum.Failed) > 0 {
		return nil, sum.Failed[0]
	}
	if len(sink.got) != len(lines) {
		return nil, fmt.Errorf("scan wrote %d events for %d lines", len(sink.got), len(lines))
	}
	res := make([]Result, len(lines))
	for i, l := range lines {
		ev := sink.got[i]
		if ev.n != i+1 {
			return nil, fmt.Errorf("event %d is of input line %d", i+1, ev.n)
		}
		res[i] = Result{Line: l, Level: ev.level, Rule: ev.rule, EvSource: ev.source, Component: ev.component}
	}
	return res, nil
}

type got struct {
	n                              int
	level, rule, source, component string
}

type collector struct{ got []got }

func (c *collector) Write(ev *event.Event) error {
	n := 0
	if i := strings.LastIndexByte(ev.Input, ':'); i >= 0 {
		n, _ = strconv.Atoi(ev.Input[i+1:])
	}
	c.got = append(c.got, got{n: n, level: ev.Level, rule: ev.Rule, source: ev.Source, component: ev.Component})
	return nil
}

func (c *collector) Flush() error { return nil }

// Figures are the measures of issue 13, point 5.
type Figures struct {
	Serious       int // lines labelled critical or major
	SeriousWarn   int // ... raised to warning or above
	SeriousMajor  int // ... raised to major or above
	Routine       int // lines labelled info or debug
	RoutineRaised int // ... raised to warning or above
}

// Measure computes the figures of results.
func Measure(results []Result) Figures {
	var f Figures
	for _, r := range results {
		switch {
		case r.Serious():
			f.Serious++
			if r.Raised() {
				f.SeriousWarn++
			}
			if r.Major() {
				f.SeriousMajor++
			}
		case r.Routine():
			f.Routine++
			if r.Raised() {
				f.RoutineRaised++
			}
		}
	}
	return f
}

// Add returns the figures of two sets measured together.
func (f Figures) Add(g Figures) Figures {
	return Figures{
		Serious:       f.Serious + g.Serious,
		SeriousWarn:   f.SeriousWarn + g.SeriousWarn,
		SeriousMajor:  f.SeriousMajor + g.SeriousMajor,
		Routine:       f.Routine + g.Routine,
		RoutineRaised: f.RoutineRaised + g.RoutineRaised,
	}
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// SeriousWarnShare is the recall of serious lines at warning or above.
func (f Figures) SeriousWarnShare() float64 { return share(f.SeriousWarn, f.Serious) }

// SeriousMajorShare is the share of serious lines raised to major or above.
func (f Figures) SeriousMajorShare() float64 { return share(f.SeriousMajor, f.Serious) }

// RoutineRaisedShare is the share of routine lines raised to warning or above.
func (f Figures) RoutineRaisedShare() float64 { return share(f.RoutineRaised, f.Routine) }

// Misses returns the targets f does not meet, one sentence each.
func (f Figures) Misses() []string {
	var m []string
	if f.SeriousWarnShare() < SeriousWarnTarget {
		m = append(m, fmt.Sprintf("serious lines raised to warning+: %d/%d = %.1f %%, target >= %.0f %%",
			f.SeriousWarn, f.Serious, 100*f.SeriousWarnShare(), 100*SeriousWarnTarget))
	}
	if f.SeriousMajorShare() < SeriousMajorTarget {
		m = append(m, fmt.Sprintf("serious lines raised to major+: %d/%d = %.1f %%, target >= %.0f %%",
			f.SeriousMajor, f.Serious, 100*f.SeriousMajorShare(), 100*SeriousMajorTarget))
	}
	if f.RoutineRaisedShare() > RoutineRaisedMax {
		m = append(m, fmt.Sprintf("routine lines raised to warning+: %d/%d = %.1f %%, target <= %.0f %%",
			f.RoutineRaised, f.Routine, 100*f.RoutineRaisedShare(), 100*RoutineRaisedMax))
	}
	return m
}

// Leaks returns the held-out lines that also appear among the catalog's rule examples,
// verbatim or as the message part (the message after the header, as the parser reads
// both): held-out lines must never be copied into rule examples, or the measure would
// measure the catalog against itself.
func Leaks(lines []Line, cat *classify.Catalog) []string {
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: ref})
	if err != nil {
		return []string{err.Error()}
	}
	message := func(s string) string {
		var ev event.Event
		parse.Into(p, s, &ev)
		if ev.Source == event.SourceUnparsed {
			return ""
		}
		return strings.TrimSpace(ev.Message)
	}
	exLines := map[string]string{}    // example line -> rule id
	exMessages := map[string]string{} // example message -> rule id
	for _, r := range cat.Rules() {
		for _, ex := range r.Examples {
			exLines[strings.TrimSpace(ex.Line)] = r.ID
			if m := message(ex.Line); m != "" {
				exMessages[m] = r.ID
			}
		}
	}
	var leaks []string
	for _, l := range lines {
		if id, ok := exLines[strings.TrimSpace(l.Text)]; ok {
			leaks = append(leaks, fmt.Sprintf("line %d is an example of rule %s: %s", l.N, id, l.Text))
			continue
		}
		if m := message(l.Text); m != "" {
			if id, ok := exMessages[m]; ok {
				leaks = append(leaks, fmt.Sprintf("line %d has the message of an example of rule %s: %s", l.N, id, l.Text))
			}
		}
	}
	return leaks
}

package classify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

// Failure is one example line that does not classify as its rule says.
type Failure struct {
	Rule    *Rule
	Line    string
	Problem string
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s: rule %s: %s\n    %s", f.Rule.Origin, f.Rule.ID, f.Problem, f.Line)
}

// Test parses every example line of every rule (and of every row of the severity floor)
// and checks that it classifies to that rule
// with the assert, notification and fields the example names, the way syslog-ng's
// patterndb tests its test messages. Example lines carry no year ambiguity worth a
// setting: they are read in UTC with a fixed reference time.
func (c *Catalog) Test() []Failure {
	p, _ := parse.New(parse.Auto, exampleOptions())
	var failures []Failure
	var ev event.Event
	for _, r := range append(c.rules[:len(c.rules):len(c.rules)], c.Floor()...) {
		for _, ex := range r.Examples {
			parse.Into(p, ex.Line, &ev)
			if problem := c.check(r, ex, &ev); problem != "" {
				failures = append(failures, Failure{Rule: r, Line: ex.Line, Problem: problem})
			}
		}
	}
	return failures
}

func (c *Catalog) check(r *Rule, ex Example, ev *event.Event) string {
	if ev.Source == event.SourceUnparsed {
		return "the line does not parse: " + ev.Reason
	}
	got := c.Classify(ev)
	switch {
	case got == nil:
		return "no rule matches"
	case got != r:
		return fmt.Sprintf("rule %s (%s) wins instead", got.ID, got.Origin)
	}
	var problems []string
	if ex.Assert != nil && ev.Assert != event.TriOf(*ex.Assert) {
		problems = append(problems, fmt.Sprintf("assert %s, want %v", triString(ev.Assert), *ex.Assert))
	}
	if ex.Notification != "" && ev.Notification != ex.Notification {
		problems = append(problems, fmt.Sprintf("notification %q, want %q", ev.Notification, ex.Notification))
	}
	keys := make([]string, 0, len(ex.Fields))
	for k := range ex.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got := ev.Fields.Text(k); got != ex.Fields[k] {
			problems = append(problems, fmt.Sprintf("field %s %q, want %q", k, got, ex.Fields[k]))
		}
	}
	return strings.Join(problems, "; ")
}

func triString(t event.Tri) string {
	switch t {
	case event.True:
		return "true"
	case event.False:
		return "false"
	}
	return "unset"
}

// exampleOptions reads example lines in UTC with a fixed reference time, so that a rule
// test gives the same result on every machine and every day.
func exampleOptions() parse.Options {
	return parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
}

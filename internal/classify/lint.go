package classify

import (
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

// Lint loads the catalog with the operator's files and reports what would fail at start
// (the load error itself: invalid regex, duplicate id, unknown key, with file:line) and
// rules that can never match: a literal that no example contains, a regex that none of its
// examples match, a rule whose every example is taken by another rule (shadowed).
func Lint(paths ...string) ([]string, error) {
	c, err := Load(paths...)
	if err != nil {
		return nil, err
	}
	var findings []string
	add := func(r *Rule, format string, args ...any) {
		findings = append(findings, fmt.Sprintf("%s: rule %s: %s", r.Origin, r.ID, fmt.Sprintf(format, args...)))
	}
	failed := map[*Rule]int{}
	for _, f := range c.Test() {
		failed[f.Rule]++
	}
	p, _ := parse.New(parse.Auto, exampleOptions())
	for _, r := range c.Rules() {
		if len(r.Examples) == 0 {
			continue
		}
		msgs := exampleMessages(p, r)
		for _, lit := range r.Match.Contains {
			if !anyOf(msgs, func(m string) bool { return strings.Contains(m, lit) }) {
				add(r, "literal %q occurs in none of its examples: the rule can never match them", lit)
			}
		}
		if r.re != nil && !anyOf(msgs, r.re.MatchString) {
			add(r, "regex matches none of its examples")
		}
		if failed[r] == len(r.Examples) {
			add(r, "none of its %d examples classifies to it: it is shadowed or can never match", len(r.Examples))
		}
	}
	return findings, nil
}

// exampleMessages parses the rule's example lines: rules match the message, not the line.
func exampleMessages(p parse.Parser, r *Rule) []string {
	var ev event.Event
	msgs := make([]string, 0, len(r.Examples))
	for _, ex := range r.Examples {
		parse.Into(p, ex.Line, &ev)
		msgs = append(msgs, ev.Message)
	}
	return msgs
}

func anyOf(msgs []string, ok func(string) bool) bool {
	for _, m := range msgs {
		if ok(m) {
			return true
		}
	}
	return false
}

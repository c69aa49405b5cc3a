// Package classify applies the rule catalog to events: which component spoke, which
// documented message it is, how much it matters, what it means, what to do, which trap
// category it belongs to, and whether it asserts or clears an alarm.
//
// Rules are data (catalog/*.yaml, embedded; operators add and replace rules by id with
// their own files). No pattern lives in Go code.
package classify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Rule is one entry of the catalog. See catalog/README.md for the format.
type Rule struct {
	ID           string    `yaml:"id"`
	Component    string    `yaml:"component"`
	Class        string    `yaml:"class"`
	Title        string    `yaml:"title"`
	Level        string    `yaml:"level"`
	Meaning      string    `yaml:"meaning"`
	Action       string    `yaml:"action"`
	Notification string    `yaml:"notification"`
	Assert       AssertArg `yaml:"assert"`
	Key          string    `yaml:"key"`
	// Join says how the event's alarm is found besides its key: JoinLogReference (a
	// trap whose ssLogReference names a log line joins the alarm of that line).
	Join     string   `yaml:"join"`
	Clears   []string `yaml:"clears"`
	Tags     []string `yaml:"tags"`
	Priority int      `yaml:"priority"`
	// Floor makes the level a minimum: a catch-all rule keeps its component and takes
	// the severity floor's level when that is higher (see floor.go).
	Floor    bool      `yaml:"floor"`
	Match    Match     `yaml:"match"`
	Examples []Example `yaml:"examples"`

	// Where the rule was read: "file:line".
	Origin string `yaml:"-"`

	re          *regexp.Regexp
	captures    bool // re has named groups: the fields apply sets
	assert      *assertExpr
	specificity int
	process     []string    // Match.Process normalised (see normProcess)
	floorEntry  *FloorEntry // set on the rules of the severity floor
}

// Match says which events a rule applies to. Every given constraint must hold.
type Match struct {
	Source   []string `yaml:"source"`
	Process  []string `yaml:"process"`
	Facility []string `yaml:"facility"`
	Severity []string `yaml:"severity"`
	Host     string   `yaml:"host"`
	Contains []string `yaml:"contains"`
	// ContainsAny: at least one of these literals must appear (spellings of one word,
	// a name and its code); each is an anchor of the literal index.
	ContainsAny []string          `yaml:"contains_any"`
	Regex       string            `yaml:"regex"`
	Fields      map[string]string `yaml:"fields"`
}

// Example is a line that must classify to its rule, with what it must yield.
type Example struct {
	Line         string            `yaml:"line"`
	Assert       *bool             `yaml:"assert"`
	Notification string            `yaml:"notification"`
	Fields       map[string]string `yaml:"fields"`
}

// AssertArg is the assert setting as written: absent, true, false or an expression.
type AssertArg struct {
	Set  bool
	Expr string // "true", "false" or a comparison
}

// UnmarshalYAML accepts a boolean or a string.
func (a *AssertArg) UnmarshalYAML(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*a = AssertArg{Set: true, Expr: fmt.Sprint(b)}
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("assert: want true, false or a comparison such as \"reading <= threshold_value\"")
	}
	*a = AssertArg{Set: true, Expr: s}
	return nil
}

// JoinLogReference is the join of a trap that names its log line (fields log_host,
// log_time, process, pid): the trap joins the alarm of that line, read before or after it.
const JoinLogReference = "log_reference"

// Valid values of class and level.
func validClass(c string) bool {
	switch c {
	case "", "expected", "unexpected", "significant", "insignificant", "unlikely", "debug", "unknown", event.ClassUnclassified:
		return true
	}
	return false
}

func validLevel(l string) bool {
	switch l {
	case "critical", "major", "minor", "warning", "info", "debug":
		return true
	}
	return false
}

// compile checks a rule and prepares its regex, assert expression and specificity.
func (r *Rule) compile() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("rule without id")
	case strings.ContainsAny(r.ID, " \t"):
		return fmt.Errorf("rule %q: id must not contain spaces", r.ID)
	case r.Component == "":
		return fmt.Errorf("rule %s: no component", r.ID)
	case !validClass(r.Class):
		return fmt.Errorf("rule %s: class %q is not one of expected, unexpected, significant, insignificant, unlikely, debug, unknown, unclassified", r.ID, r.Class)
	case !validLevel(r.Level):
		return fmt.Errorf("rule %s: level %q is not one of critical, major, minor, warning, info, debug", r.ID, r.Level)
	}
	switch r.Join {
	case "", JoinLogReference:
	default:
		return fmt.Errorf("rule %s: join %q is not %s", r.ID, r.Join, JoinLogReference)
	}
	m := r.Match
	if len(m.Contains) == 0 && len(m.ContainsAny) == 0 && m.Regex == "" && len(m.Fields) == 0 && len(m.Process) == 0 && len(m.Source) == 0 {
		return fmt.Errorf("rule %s: match has no constraint: it would match every event", r.ID)
	}
	for _, lit := range append(m.Contains[:len(m.Contains):len(m.Contains)], m.ContainsAny...) {
		if lit == "" {
			return fmt.Errorf("rule %s: empty contains literal", r.ID)
		}
	}
	r.process = nil
	for _, p := range m.Process {
		r.process = append(r.process, normProcess(p))
	}
	if m.Regex != "" {
		re, err := regexp.Compile(m.Regex)
		if err != nil {
			return fmt.Errorf("rule %s: regex: %w", r.ID, err)
		}
		r.re = re
		r.captures = slices.ContainsFunc(re.SubexpNames(), func(n string) bool { return n != "" })
	}
	if r.Assert.Set {
		a, err := parseAssert(r.Assert.Expr)
		if err != nil {
			return fmt.Errorf("rule %s: assert: %w", r.ID, err)
		}
		r.assert = a
	}
	r.specificity = r.computeSpecificity()
	return nil
}

// computeSpecificity ranks rules of equal priority: literal characters count one each, a
// regex, a field and a process constraint add to it.
func (r *Rule) computeSpecificity() int {
	s := 0
	for _, lit := range r.Match.Contains {
		s += len(lit)
	}
	if len(r.Match.ContainsAny) > 0 {
		short := r.Match.ContainsAny[0]
		for _, lit := range r.Match.ContainsAny[1:] {
			if len(lit) < len(short) {
				short = lit
			}
		}
		s += len(short)
	}
	if r.re != nil {
		prefix, _ := r.re.LiteralPrefix()
		s += 10 + len(prefix)
	}
	s += 20 * len(r.Match.Fields)
	if len(r.Match.Process) > 0 {
		s += 5
	}
	if len(r.Match.Source)+len(r.Match.Facility)+len(r.Match.Severity) > 0 || r.Match.Host != "" {
		s++
	}
	return s
}

// AlarmKey is the key of the alarm ev asserts or clears, within its host: the rule's key
// template with each {name} replaced by the event's field of that name ({process} and
// {component} name the event's own), or the rule's id when it has no key. Rules that share
// a key (an ALM code pair, the assert and de-assert of one sensor) open and close the same
// alarm.
func (r *Rule) AlarmKey(ev *event.Event) string {
	if r.Key == "" {
		return r.ID
	}
	if !strings.Contains(r.Key, "{") {
		return r.Key
	}
	var b strings.Builder
	rest := r.Key
	for {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest[i+1:], '}')
		if i < 0 || j < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		name := rest[i+1 : i+1+j]
		switch name {
		case "process":
			b.WriteString(ev.Process)
		case "component":
			b.WriteString(ev.Component)
		default:
			b.WriteString(ev.Fields.Text(name))
		}
		rest = rest[i+2+j:]
	}
}

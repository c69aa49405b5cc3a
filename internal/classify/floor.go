package classify

import (
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// FloorEntry is one row of the severity floor (catalog/floor.yaml): the level an event
// gets when no specific rule knows it, from the severity its sender wrote or from a level
// word at the start of its message. See catalog/README.md.
type FloorEntry struct {
	ID       string    `yaml:"id"`
	Severity string    `yaml:"severity"` // a normalised syslog severity, or "none" for an event without one
	Words    []string  `yaml:"words"`    // spellings, case-sensitive, at the start of the message or after [tags]
	Level    string    `yaml:"level"`
	Title    string    `yaml:"title"`
	Meaning  string    `yaml:"meaning"`
	Examples []Example `yaml:"examples"`
}

func validSeverity(s string) bool {
	switch s {
	case "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "none":
		return true
	}
	return false
}

// rule turns the entry into the rule events of the floor carry: class unclassified, no
// component (no rule knows which part of the system spoke).
func (f *FloorEntry) rule(origin string) (*Rule, error) {
	switch {
	case !strings.HasPrefix(f.ID, "floor.") || strings.ContainsAny(f.ID, " \t"):
		return nil, fmt.Errorf("floor entry %q: id must start with \"floor.\" and hold no spaces", f.ID)
	case (f.Severity == "") == (len(f.Words) == 0):
		return nil, fmt.Errorf("floor entry %s: give either severity or words", f.ID)
	case f.Severity != "" && !validSeverity(f.Severity):
		return nil, fmt.Errorf("floor entry %s: severity %q is not one of emerg alert crit err warning notice info debug none", f.ID, f.Severity)
	case !validLevel(f.Level):
		return nil, fmt.Errorf("floor entry %s: level %q is not one of critical, major, minor, warning, info, debug", f.ID, f.Level)
	}
	for _, w := range f.Words {
		if strings.TrimSpace(w) == "" {
			return nil, fmt.Errorf("floor entry %s: empty word", f.ID)
		}
	}
	title := f.Title
	if title == "" {
		title = "Unclassified message"
	}
	r := &Rule{ID: f.ID, Class: event.ClassUnclassified, Title: title, Level: f.Level, Meaning: f.Meaning,
		Examples: f.Examples, Origin: origin, floorEntry: f}
	return r, nil
}

// floorWord is one spelling of a level word.
type floorWord struct {
	word     string
	boundary bool // the word ends in a letter or digit: the next byte must not be one
	rule     *Rule
}

// floorTable picks the floor rule of an event. It runs for most events of a syslog
// server's noise, so lookups are by array: severities by their index, words by their
// first byte.
type floorTable struct {
	rules      []*Rule
	bySeverity [numSeverities]*Rule // index: severityIndex; "none" for an event without one
	byFirst    [256][]floorWord
}

// numSeverities counts the keys of the severity rows: the eight syslog severities and
// "none".
const numSeverities = 9

// severityIndex returns the index of s in severities (an empty severity is "none"), or -1.
func severityIndex(s string) int {
	switch s {
	case "emerg":
		return 0
	case "alert":
		return 1
	case "crit":
		return 2
	case "err":
		return 3
	case "warning":
		return 4
	case "notice":
		return 5
	case "info":
		return 6
	case "debug":
		return 7
	case "none", "":
		return 8
	}
	return -1
}

func newFloorTable(rules []*Rule) *floorTable {
	t := &floorTable{rules: rules}
	for _, r := range rules {
		f := r.floorEntry
		if i := severityIndex(f.Severity); f.Severity != "" && i >= 0 {
			t.bySeverity[i] = r
		}
		for _, w := range f.Words {
			last := w[len(w)-1]
			t.byFirst[w[0]] = append(t.byFirst[w[0]], floorWord{word: w, boundary: isWordByte(last), rule: r})
		}
	}
	return t
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pick returns the floor rule of ev: the higher of what its severity and its level word
// say (the word on a tie: it is what the message itself says), or nil when the table has
// neither.
func (t *floorTable) pick(ev *event.Event) *Rule {
	if t == nil {
		return nil
	}
	var sev *Rule
	if i := severityIndex(ev.Severity); i >= 0 {
		sev = t.bySeverity[i]
	}
	word := t.word(ev.Message)
	switch {
	case word == nil:
		return sev
	case sev == nil || event.LevelRank(word.Level) >= event.LevelRank(sev.Level):
		return word
	}
	return sev
}

// word finds a level word at the start of msg, after blanks and bracketed tags
// ("[1234.5] [HSM] ERROR ...").
func (t *floorTable) word(msg string) *Rule {
	i := 0
	for {
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
			i++
		}
		if i >= len(msg) || msg[i] != '[' {
			break
		}
		j := strings.IndexByte(msg[i:], ']')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if i >= len(msg) {
		return nil
	}
	rest := msg[i:]
	var best *Rule
	words := t.byFirst[rest[0]]
	for k := range words {
		w := &words[k]
		if !strings.HasPrefix(rest, w.word) {
			continue
		}
		if w.boundary && len(rest) > len(w.word) && isWordByte(rest[len(w.word)]) {
			continue
		}
		if best == nil || event.LevelRank(w.rule.Level) > event.LevelRank(best.Level) {
			best = w.rule
		}
	}
	return best
}

package state

import (
	"sort"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Count is how often one rule matched on one host.
type Count struct {
	Host        string    `json:"host"`
	Rule        string    `json:"rule"`
	Title       string    `json:"title"`
	Component   string    `json:"component"`
	Level       string    `json:"level"`
	Significant bool      `json:"significant"`
	Count       int64     `json:"count"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	Example     string    `json:"example"` // the first message
}

// countKey is the host and rule of a count; source stands for the rule of unclassified
// events (grouped by their format), so that no "(source)" string is built per event.
type countKey struct{ host, rule, source string }

// count tallies ev by host and rule: bounded by hosts times rules, whatever the volume.
func (t *Tracker) count(ev *event.Event, when time.Time) {
	k := countKey{host: ev.Host, rule: ev.Rule}
	if ev.Rule == "" {
		k.source = ev.Source
	}
	c := t.counts[k]
	if c == nil {
		rule := ev.Rule
		if rule == "" {
			rule = "(" + ev.Source + ")" // unclassified events, grouped by their format
		}
		c = &Count{Host: ev.Host, Rule: rule, Title: ev.Title, Component: ev.Component,
			Level: ev.Level, First: when, Example: ev.Message}
		if c.Example == "" {
			c.Example = ev.Raw // an unparsed line has no message, only its text
		}
		t.counts[k] = c
	}
	c.Count++
	c.Significant = c.Significant || ev.Significant()
	if when.After(c.Last) {
		c.Last = when
	}
	if when.Before(c.First) {
		c.First = when
	}
}

// Counts lists the counts by rule and host, the most frequent first.
func (t *Tracker) Counts() []Count {
	out := make([]Count, 0, len(t.counts))
	for _, c := range t.counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Host < out[j].Host
	})
	return out
}

// Ignored counts the events each ignore entry matched, by its index in Config.Ignore.
func (t *Tracker) Ignored() map[int]int64 {
	out := make(map[int]int64, len(t.ignored))
	for k, v := range t.ignored {
		out[k] = v
	}
	return out
}

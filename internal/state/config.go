// Package state keeps what is true now, from the stream of classified events: the alarms
// that are open per host and alarm key (assert opens, the matching clear closes), how long
// they have been open, whether they flap, how often the same message repeats, which host
// is flooding, and, for Dinamo HSMs, the integrity of the event log (counter gaps,
// restarts, truncations) and the client sessions it records.
//
// A Tracker is fed one event at a time (Observe) in the order the events were read. Its
// clock is the events' own time, so a scan of an old export and a live daemon give the
// same answers.
package state

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Config tunes the tracker. The zero value of a field means its default.
type Config struct {
	// StaleAfter: an alarm open longer than this is reported as stale (default 24h).
	StaleAfter time.Duration `yaml:"stale_after"`
	// DedupWindow: the same message from the same host within this window is counted on
	// the first one instead of being repeated (default 5m; negative disables).
	DedupWindow time.Duration `yaml:"dedup_window"`
	// An alarm that changes state FlapCount times within FlapWindow is flapping; while
	// it flaps, a clear is held until the alarm has stayed clear for HoldDown
	// (defaults 4, 10m, 5m; a negative FlapCount disables flap detection).
	FlapCount  int           `yaml:"flap_count"`
	FlapWindow time.Duration `yaml:"flap_window"`
	HoldDown   time.Duration `yaml:"hold_down"`
	// StormLimit events per host within StormWindow pass; beyond it they are counted and
	// held back until the window ends. Clears always pass (defaults 500, 1m; negative
	// StormLimit disables).
	StormLimit  int           `yaml:"storm_limit"`
	StormWindow time.Duration `yaml:"storm_window"`
	// Ignore lists known-benign events: they are counted, never alarm.
	Ignore []Ignore `yaml:"ignore"`
	// MaxSessions bounds the Dinamo sessions kept; the least recently active go first
	// (default 10000).
	MaxSessions int `yaml:"max_sessions"`
	// MaxFindings bounds the Dinamo integrity findings kept (default 1000); the count of
	// those dropped is kept.
	MaxFindings int `yaml:"max_findings"`
}

// Ignore matches events to ignore. Every field given must match; Rule and Host are
// globs (path.Match syntax, case-insensitive), Contains is a plain substring of the
// message. At least one of them must be given.
type Ignore struct {
	Rule      string `yaml:"rule"`
	Host      string `yaml:"host"`
	Component string `yaml:"component"`
	Contains  string `yaml:"contains"`
	Reason    string `yaml:"reason"`
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.StaleAfter, 24*time.Hour)
	def(&c.DedupWindow, 5*time.Minute)
	def(&c.FlapWindow, 10*time.Minute)
	def(&c.HoldDown, 5*time.Minute)
	def(&c.StormWindow, time.Minute)
	if c.FlapCount == 0 {
		c.FlapCount = 4
	}
	if c.StormLimit == 0 {
		c.StormLimit = 500
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10000
	}
	if c.MaxFindings <= 0 {
		c.MaxFindings = 1000
	}
	return c
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	for i, ig := range c.Ignore {
		if ig.Rule == "" && ig.Host == "" && ig.Component == "" && ig.Contains == "" {
			return fmt.Errorf("ignore[%d]: give at least one of rule, host, component, contains", i)
		}
		for _, g := range []string{ig.Rule, ig.Host} {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("ignore[%d]: bad glob %q: %w", i, g, err)
			}
		}
	}
	if c.FlapCount == 1 {
		return fmt.Errorf("flap_count: 1 would make every alarm flap; use 2 or more, or a negative value to disable")
	}
	return nil
}

func (ig Ignore) matches(ev *event.Event) bool {
	glob := func(pat, s string) bool {
		if pat == "" {
			return true
		}
		ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(s))
		return ok
	}
	return glob(ig.Rule, ev.Rule) && glob(ig.Host, ev.Host) &&
		(ig.Component == "" || strings.EqualFold(ig.Component, ev.Component)) &&
		(ig.Contains == "" || strings.Contains(ev.Message, ig.Contains))
}

// Package actions holds what operators' silences and maintenance windows mean: which
// events they cover at a given time (Mutes), and what makes one valid (CheckSilence,
// CheckMaintenance, each error naming the field). The store keeps them
// (internal/store, actions.go); the daemon marks the events they cover as silenced
// (internal/daemon, actions.go), and the sinks' queues keep those from every sink.
package actions

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// FieldError is a mistake in one field of an action; its text starts with the field.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// MaxSpan bounds a silence and a maintenance window: longer ones are mistakes (a
// permanent exception belongs in the configuration's state.ignore).
const MaxSpan = 366 * 24 * time.Hour

// MaxWindow bounds one maintenance window.
const MaxWindow = 7 * 24 * time.Hour

// CheckSilence validates a silence to add.
func CheckSilence(s store.Silence) error {
	if s.Host == "" && s.Rule == "" && s.Level == "" {
		return &FieldError{"host", "give at least one of host, rule, level (a silence of everything is refused)"}
	}
	for _, f := range []struct{ name, glob string }{{"host", s.Host}, {"rule", s.Rule}, {"level", s.Level}} {
		if _, err := path.Match(f.glob, ""); err != nil {
			return &FieldError{f.name, fmt.Sprintf("bad glob %q: %v", f.glob, err)}
		}
	}
	switch {
	case s.Starts.IsZero():
		return &FieldError{"starts", "required"}
	case !s.Ends.After(s.Starts):
		return &FieldError{"ends", "must be after starts"}
	case s.Ends.Sub(s.Starts) > MaxSpan:
		return &FieldError{"ends", "a silence lasts at most 366 days"}
	}
	return checkActor(s.CreatedBy, s.Comment)
}

func checkActor(by, comment string) error {
	if strings.TrimSpace(by) == "" {
		return &FieldError{"by", "required: who does this (the X-Hsmwatch-Actor header or the body's \"by\")"}
	}
	if len(by) > 200 {
		return &FieldError{"by", "at most 200 bytes"}
	}
	if len(comment) > 4000 {
		return &FieldError{"comment", "at most 4000 bytes"}
	}
	return nil
}

// CheckAction validates who and why of an acknowledgement or a close.
func CheckAction(a store.Action) error { return checkActor(a.By, a.Comment) }

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// CheckMaintenance validates a maintenance window to add and normalises its weekdays
// (lower case, "monday" becomes "mon").
func CheckMaintenance(m *store.Maintenance) error {
	if m.Host == "" {
		return &FieldError{"host", "required (a glob: luna1, luna-*)"}
	}
	if _, err := path.Match(m.Host, ""); err != nil {
		return &FieldError{"host", fmt.Sprintf("bad glob %q: %v", m.Host, err)}
	}
	for i, d := range m.Weekdays {
		d = strings.ToLower(strings.TrimSpace(d))
		if len(d) > 3 {
			d = d[:3]
		}
		if _, ok := weekdays[d]; !ok {
			return &FieldError{"weekdays", fmt.Sprintf("%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", m.Weekdays[i])}
		}
		m.Weekdays[i] = d
	}
	if _, err := startMinute(m.Start); err != nil {
		return &FieldError{"start", err.Error()}
	}
	if m.Duration <= 0 || time.Duration(m.Duration) > MaxWindow {
		return &FieldError{"duration", "want a duration from 1m to 168h (one week)"}
	}
	if _, err := time.LoadLocation(m.Zone); err != nil {
		return &FieldError{"zone", fmt.Sprintf("unknown time zone %q (want an IANA name: Europe/Paris, UTC)", m.Zone)}
	}
	return checkActor(m.CreatedBy, m.Comment)
}

func startMinute(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return 0, fmt.Errorf("want HH:MM (00:00 to 23:59); got %q", s)
	}
	return hh*60 + mm, nil
}

// Mutes is a snapshot of the silences and maintenance windows in force; it is not
// changed once made, so the pipeline reads it while the API makes the next one.
type Mutes struct {
	silences []store.Silence
	windows  []window
}

type window struct {
	m     store.Maintenance
	days  [7]bool // by time.Weekday; all true when none is given
	start int     // minutes after midnight
	loc   *time.Location
}

// NewMutes compiles silences and windows; a window that no longer validates (a zone the
// system lost) is an error naming it, and is left out.
func NewMutes(silences []store.Silence, windows []store.Maintenance) (*Mutes, error) {
	m := &Mutes{silences: silences}
	var bad []string
	for _, w := range windows {
		cw := window{m: w}
		var err error
		if cw.start, err = startMinute(w.Start); err == nil {
			cw.loc, err = time.LoadLocation(w.Zone)
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("maintenance %d: %v", w.ID, err))
			continue
		}
		for _, d := range w.Weekdays {
			if wd, ok := weekdays[d]; ok {
				cw.days[wd] = true
			}
		}
		if len(w.Weekdays) == 0 {
			cw.days = [7]bool{true, true, true, true, true, true, true}
		}
		m.windows = append(m.windows, cw)
	}
	if len(bad) > 0 {
		return m, fmt.Errorf("actions: %s", strings.Join(bad, "; "))
	}
	return m, nil
}

// Muted reports whether a silence or a maintenance window covers an event of host, rule
// and level at now, and which one ("silence 12", "maintenance 3").
func (m *Mutes) Muted(host, rule, level string, now time.Time) (string, bool) {
	if m == nil {
		return "", false
	}
	for _, s := range m.silences {
		if SilenceCovers(s, host, rule, level, now) {
			return "silence " + strconv.FormatInt(s.ID, 10), true
		}
	}
	for _, w := range m.windows {
		if glob(w.m.Host, host) && w.active(now) {
			return "maintenance " + strconv.FormatInt(w.m.ID, 10), true
		}
	}
	return "", false
}

// SilenceCovers reports whether s covers an event of host, rule and level at now.
func SilenceCovers(s store.Silence, host, rule, level string, now time.Time) bool {
	return !now.Before(s.Starts) && now.Before(s.Ends) &&
		glob(s.Host, host) && glob(s.Rule, rule) && glob(s.Level, level)
}

// InMaintenance reports whether window w covers host at now.
func InMaintenance(w store.Maintenance, host string, now time.Time) bool {
	m, err := NewMutes(nil, []store.Maintenance{w})
	if err != nil {
		return false
	}
	_, ok := m.Muted(host, "", "", now)
	return ok
}

// active: a window that started on one of the days before now (as many as it may last)
// and has not ended.
func (w window) active(now time.Time) bool {
	local := now.In(w.loc)
	d := time.Duration(w.m.Duration)
	for back := 0; back <= int(d/(24*time.Hour))+1; back++ {
		day := local.AddDate(0, 0, -back)
		if !w.days[day.Weekday()] {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), w.start/60, w.start%60, 0, 0, w.loc)
		if !now.Before(start) && now.Before(start.Add(d)) {
			return true
		}
	}
	return false
}

// glob matches case-insensitively; "" matches anything.
func glob(pat, s string) bool {
	if pat == "" {
		return true
	}
	ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(s))
	return ok
}

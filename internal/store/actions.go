package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Operator actions: acknowledging and closing alarms, silences and maintenance windows
// (schema 3, migrations/*/003_operator_actions.sql). Each is recorded with who, when and
// why, and only ever touches rows of the store's own site. Matching events against
// silences and windows is internal/actions' work; the store keeps them.

// ErrNotFound is returned for an id the store's site does not hold.
var ErrNotFound = errors.New("store: not found")

// ErrAlarmClosed is returned by Acknowledge for an alarm that is no longer open.
var ErrAlarmClosed = errors.New("store: the alarm is closed")

// Action is an operator's action: who, when, and the comment they gave.
type Action struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment"`
}

// Silence keeps events from the sinks, as Alertmanager's silences: the events whose
// host, rule and level match the globs (path.Match syntax, case-insensitive; "" matches
// anything) between Starts (inclusive) and Ends (exclusive).
type Silence struct {
	ID        int64     `json:"id"`
	Site      string    `json:"site"`
	Host      string    `json:"host,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	Level     string    `json:"level,omitempty"`
	Starts    time.Time `json:"starts"`
	Ends      time.Time `json:"ends"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Comment   string    `json:"comment"`
	// ExpiredBy names who ended the silence early (Ends is then when they did).
	ExpiredBy string `json:"expired_by,omitempty"`
}

// Maintenance is a recurring maintenance window of the hosts matching Host (a glob):
// every week on Weekdays (none: every day), from Start ("HH:MM") in Zone (an IANA name,
// "" for UTC) for Duration. The events of a host in maintenance are treated as silenced.
type Maintenance struct {
	ID        int64     `json:"id"`
	Site      string    `json:"site"`
	Host      string    `json:"host"`
	Weekdays  []string  `json:"weekdays,omitempty"` // "mon" .. "sun"
	Start     string    `json:"start"`
	Duration  Span      `json:"duration"`
	Zone      string    `json:"zone,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Comment   string    `json:"comment"`
}

// Span is a duration that reads and writes as Go's duration text ("1h30m0s").
type Span time.Duration

// MarshalJSON writes the duration as text.
func (s Span) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(s).String()) }

// UnmarshalJSON reads a duration's text ("90m", "2h").
func (s *Span) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return errors.New(`want a duration such as "90m" or "2h"`)
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf(`want a duration such as "90m" or "2h"; got %q`, text)
	}
	*s = Span(d)
	return nil
}

// SilenceFilter selects silences of one site.
type SilenceFilter struct {
	Site string // "" for all sites
	// EndsAfter keeps the silences still in force or to come at that time; zero keeps
	// every silence.
	EndsAfter time.Time
	Limit     int // 0 means DefaultLimit; at most MaxLimit
}

// Actions is the part of Store that records operator actions.
type Actions interface {
	// Alarm returns one alarm of the store's site by id.
	Alarm(ctx context.Context, id int64) (Alarm, error)
	// Acknowledge marks an open alarm acknowledged (ErrAlarmClosed when it is not
	// open); a second acknowledgement replaces the first.
	Acknowledge(ctx context.Context, id int64, a Action) (Alarm, error)
	// CloseAlarm records an operator's close of an alarm: an open alarm is cleared at
	// a.At by "operator"; an alarm already cleared (by the tracker through the
	// pipeline, just before) keeps its clear time and gets the operator's name.
	CloseAlarm(ctx context.Context, id int64, a Action) (Alarm, error)

	AddSilence(ctx context.Context, s Silence) (Silence, error)
	Silences(ctx context.Context, f SilenceFilter) ([]Silence, error)
	// ExpireSilence ends a silence at a.At (one that already ended is left as it was).
	ExpireSilence(ctx context.Context, id int64, a Action) (Silence, error)

	AddMaintenance(ctx context.Context, m Maintenance) (Maintenance, error)
	Maintenances(ctx context.Context, site string) ([]Maintenance, error)
	DeleteMaintenance(ctx context.Context, id int64) error
}

// ClearedByOperator is the cleared_by of an alarm closed by hand.
const ClearedByOperator = "operator"

func (s *sqlStore) Alarm(ctx context.Context, id int64) (Alarm, error) {
	var al Alarm
	err := s.db.read(ctx, func(q querier) error {
		var err error
		al, err = s.alarmByID(ctx, q, id)
		return err
	})
	if err != nil {
		return al, fmt.Errorf("store: alarm %d: %w", id, err)
	}
	return al, nil
}

func (s *sqlStore) alarmByID(ctx context.Context, q querier, id int64) (Alarm, error) {
	r, err := q.query(ctx, "SELECT "+selectAlarmCols+" FROM alarms WHERE id = $1 AND site = $2", id, s.site)
	if err != nil {
		return Alarm{}, err
	}
	defer r.Close()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return Alarm{}, err
		}
		return Alarm{}, ErrNotFound
	}
	return scanAlarm(r)
}

func (s *sqlStore) Acknowledge(ctx context.Context, id int64, a Action) (Alarm, error) {
	c := s.d.cleanText
	var al Alarm
	err := s.db.write(ctx, func(q querier) error {
		n, err := q.exec(ctx, `UPDATE alarms SET acked_at = $1, acked_by = $2, ack_comment = $3
WHERE id = $4 AND site = $5 AND cleared IS NULL`, unixNano(a.At), c(a.By), c(a.Comment), id, s.site)
		if err != nil {
			return err
		}
		al, err = s.alarmByID(ctx, q, id)
		if err == nil && n == 0 {
			err = ErrAlarmClosed
		}
		return err
	})
	if err != nil {
		return al, fmt.Errorf("store: acknowledge alarm %d: %w", id, err)
	}
	return al, nil
}

func (s *sqlStore) CloseAlarm(ctx context.Context, id int64, a Action) (Alarm, error) {
	c := s.d.cleanText
	var al Alarm
	err := s.db.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `UPDATE alarms SET closed_at = $1, closed_by = $2, close_comment = $3,
	cleared_by = CASE WHEN cleared IS NULL THEN $6 ELSE cleared_by END,
	cleared = COALESCE(cleared, $1)
WHERE id = $4 AND site = $5`, unixNano(a.At), c(a.By), c(a.Comment), id, s.site, ClearedByOperator)
		if err != nil {
			return err
		}
		al, err = s.alarmByID(ctx, q, id)
		return err
	})
	if err != nil {
		return al, fmt.Errorf("store: close alarm %d: %w", id, err)
	}
	return al, nil
}

const selectSilenceCols = `id, site, host, rule, level, starts, ends, created_by, created_at, comment, expired_by`

func (s *sqlStore) AddSilence(ctx context.Context, si Silence) (Silence, error) {
	c := s.d.cleanText
	si.Site = s.site
	err := s.db.write(ctx, func(q querier) error {
		r, err := q.query(ctx, `INSERT INTO silences (site, host, rule, level, starts, ends, created_by, created_at, comment)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, s.site, c(si.Host), c(si.Rule), c(si.Level),
			unixNano(si.Starts), unixNano(si.Ends), c(si.CreatedBy), unixNano(si.CreatedAt), c(si.Comment))
		if err != nil {
			return err
		}
		defer r.Close()
		if !r.Next() {
			return errors.Join(errors.New("no id returned"), r.Err())
		}
		return r.Scan(&si.ID)
	})
	if err != nil {
		return si, fmt.Errorf("store: add silence: %w", err)
	}
	return si, nil
}

func (s *sqlStore) Silences(ctx context.Context, f SilenceFilter) ([]Silence, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var a args
	where := s.siteHost(&a, f.Site, "")
	if !f.EndsAfter.IsZero() {
		where = append(where, "ends > "+a.add(unixNano(f.EndsAfter)))
	}
	q := "SELECT " + selectSilenceCols + " FROM silences"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY ends DESC, id DESC LIMIT " + a.add(int64(limit))
	var out []Silence
	err = s.db.read(ctx, func(qr querier) error {
		return eachRow(ctx, qr, q, a, func(r rows) error {
			si, err := scanSilence(r)
			out = append(out, si)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: silences: %w", err)
	}
	return out, nil
}

func scanSilence(r rows) (Silence, error) {
	var (
		si                      Silence
		starts, ends, createdAt int64
	)
	if err := r.Scan(&si.ID, &si.Site, &si.Host, &si.Rule, &si.Level, &starts, &ends, &si.CreatedBy,
		&createdAt, &si.Comment, &si.ExpiredBy); err != nil {
		return si, fmt.Errorf("read silence: %w", err)
	}
	si.Starts, si.Ends, si.CreatedAt = fromNano(starts), fromNano(ends), fromNano(createdAt)
	return si, nil
}

func (s *sqlStore) ExpireSilence(ctx context.Context, id int64, a Action) (Silence, error) {
	var si Silence
	err := s.db.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `UPDATE silences SET ends = $1, expired_by = $2
WHERE id = $3 AND site = $4 AND ends > $1`, unixNano(a.At), s.d.cleanText(a.By), id, s.site); err != nil {
			return err
		}
		r, err := q.query(ctx, "SELECT "+selectSilenceCols+" FROM silences WHERE id = $1 AND site = $2", id, s.site)
		if err != nil {
			return err
		}
		defer r.Close()
		if !r.Next() {
			return errors.Join(ErrNotFound, r.Err())
		}
		si, err = scanSilence(r)
		return err
	})
	if err != nil {
		return si, fmt.Errorf("store: expire silence %d: %w", id, err)
	}
	return si, nil
}

const selectMaintenanceCols = `id, site, host, weekdays, start, duration, zone, created_by, created_at, comment`

func (s *sqlStore) AddMaintenance(ctx context.Context, m Maintenance) (Maintenance, error) {
	c := s.d.cleanText
	m.Site = s.site
	err := s.db.write(ctx, func(q querier) error {
		r, err := q.query(ctx, `INSERT INTO maintenance (site, host, weekdays, start, duration, zone, created_by, created_at, comment)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, s.site, c(m.Host), c(strings.Join(m.Weekdays, ",")),
			c(m.Start), int64(m.Duration), c(m.Zone), c(m.CreatedBy), unixNano(m.CreatedAt), c(m.Comment))
		if err != nil {
			return err
		}
		defer r.Close()
		if !r.Next() {
			return errors.Join(errors.New("no id returned"), r.Err())
		}
		return r.Scan(&m.ID)
	})
	if err != nil {
		return m, fmt.Errorf("store: add maintenance window: %w", err)
	}
	return m, nil
}

func (s *sqlStore) Maintenances(ctx context.Context, site string) ([]Maintenance, error) {
	var a args
	where := s.siteHost(&a, site, "")
	q := "SELECT " + selectMaintenanceCols + " FROM maintenance"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY site, host, id"
	var out []Maintenance
	err := s.db.read(ctx, func(qr querier) error {
		r, err := qr.query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var (
				m                   Maintenance
				days                string
				duration, createdAt int64
			)
			if err := r.Scan(&m.ID, &m.Site, &m.Host, &days, &m.Start, &duration, &m.Zone, &m.CreatedBy,
				&createdAt, &m.Comment); err != nil {
				return fmt.Errorf("read maintenance window: %w", err)
			}
			if days != "" {
				m.Weekdays = strings.Split(days, ",")
			}
			m.Duration, m.CreatedAt = Span(duration), fromNano(createdAt)
			out = append(out, m)
		}
		return r.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: maintenance windows: %w", err)
	}
	return out, nil
}

func (s *sqlStore) DeleteMaintenance(ctx context.Context, id int64) error {
	err := s.db.write(ctx, func(q querier) error {
		n, err := q.exec(ctx, `DELETE FROM maintenance WHERE id = $1 AND site = $2`, id, s.site)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete maintenance window %d: %w", id, err)
	}
	return nil
}

// scanAction reads the three columns of an action; nil when at is NULL.
func scanAction(at sql.NullInt64, by, comment string) *Action {
	if !at.Valid {
		return nil
	}
	return &Action{By: by, At: fromNano(at.Int64), Comment: comment}
}

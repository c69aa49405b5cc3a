package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Alarm rows. The tracker (internal/state) lives in memory: after a restart it opens again
// an alarm the store still holds open, and after a crash it may replay changes the store
// already has. So an alarm change is applied as follows, always within the store's site:
//
//   - it updates the open row of its host and key when that row opened no later than the
//     alarm (a restarted tracker's alarm merges into the older open row, which keeps its
//     opening time; asserts and last_seen only grow);
//   - otherwise it inserts the alarm as a new row unless that occurrence (site, host, key,
//     opened) is already stored or another one is open: a replayed change of an alarm
//     that was since cleared, or of one older than the open row, changes nothing.
//
// A cleared alarm sets cleared and cleared_by on the row; open rows have cleared NULL.
const (
	updateAlarmSQL = `UPDATE alarms SET level = $4, message = $5, input = $6,
	last_seen = CASE WHEN last_seen > $7 THEN last_seen ELSE $7 END,
	asserts = CASE WHEN asserts > $8 THEN asserts ELSE $8 END,
	flapping = $9, cleared = $10, cleared_by = $11, evidence = $13
WHERE site = $1 AND host = $2 AND key = $3 AND cleared IS NULL AND opened <= $12`

	insertAlarmSQL = `INSERT INTO alarms (site, host, key, rule, title, component, level,
	notification, message, input, opened, last_seen, asserts, flapping, cleared, cleared_by, evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT DO NOTHING`
)

func (s *sqlStore) PutAlarms(ctx context.Context, alarms []state.Alarm) error {
	if len(alarms) == 0 {
		return nil
	}
	err := s.db.write(ctx, func(q querier) error { return s.putAlarms(ctx, q, alarms) })
	if err != nil {
		return fmt.Errorf("store: put %d alarms: %w", len(alarms), err)
	}
	return nil
}

// putAlarms applies the changes in a write transaction, one statement or two for each
// occurrence the changes name (merged).
func (s *sqlStore) putAlarms(ctx context.Context, q querier, alarms []state.Alarm) error {
	c := s.d.cleanText
	for _, a := range merged(alarms) {
		host, key := c(a.Host), c(a.Key)
		lastSeen := max(unixNano(a.LastSeen), unixNano(a.Opened))
		ev := c(evidenceJSON(a))
		n, err := q.exec(ctx, updateAlarmSQL, s.site, host, key, c(a.Level), c(a.Message),
			c(a.Input), lastSeen, a.Asserts, a.Flapping, nullNano(a.Cleared), c(a.ClearedBy),
			unixNano(a.Opened), ev)
		if err != nil {
			return fmt.Errorf("alarm %s/%s: %w", a.Host, a.Key, err)
		}
		if n > 0 {
			continue
		}
		if _, err := q.exec(ctx, insertAlarmSQL, s.site, host, key, c(a.Rule), c(a.Title),
			c(a.Component), c(a.Level), c(a.Notification), c(a.Message), c(a.Input),
			unixNano(a.Opened), lastSeen, a.Asserts, a.Flapping, nullNano(a.Cleared),
			c(a.ClearedBy), ev); err != nil {
			return fmt.Errorf("alarm %s/%s: %w", a.Host, a.Key, err)
		}
	}
	return nil
}

// occurrence names one alarm row: an alarm of a host and key opened at a time.
type occurrence struct {
	host, key string
	opened    int64
}

// merged folds the changes of one occurrence into one, in the place of its last change,
// with what applying them one by one leaves in its row: the last change's fields, the
// highest last_seen and asserts, and the rule, title, component and notification of the
// first (which inserted the row when it was new). A busy alarm changes with each of its
// events, so a batch of 2000 lines of one repeating fault becomes one statement rather
// than 2000.
func merged(alarms []state.Alarm) []state.Alarm {
	if len(alarms) < 2 {
		return alarms
	}
	type fold struct {
		first, last int // indexes into alarms
		lastSeen    time.Time
		asserts     int64
	}
	folds := make(map[occurrence]*fold, 8)
	for i, a := range alarms {
		o := occurrence{a.Host, a.Key, unixNano(a.Opened)}
		f := folds[o]
		if f == nil {
			folds[o] = &fold{first: i, last: i, lastSeen: a.LastSeen, asserts: a.Asserts}
			continue
		}
		f.last = i
		if a.LastSeen.After(f.lastSeen) {
			f.lastSeen = a.LastSeen
		}
		f.asserts = max(f.asserts, a.Asserts)
	}
	if len(folds) == len(alarms) {
		return alarms
	}
	out := make([]state.Alarm, 0, len(folds))
	for i, a := range alarms {
		f := folds[occurrence{a.Host, a.Key, unixNano(a.Opened)}]
		if f.last != i {
			continue
		}
		first := alarms[f.first]
		a.Rule, a.Title, a.Component, a.Notification = first.Rule, first.Title, first.Component, first.Notification
		a.LastSeen, a.Asserts = f.lastSeen, f.asserts
		out = append(out, a)
	}
	return out
}

const selectAlarmCols = `id, site, host, key, rule, title, component, level, notification,
	message, input, opened, last_seen, asserts, flapping, cleared, cleared_by,
	acked_at, acked_by, ack_comment, closed_at, closed_by, close_comment, evidence`

// Alarms lists open alarms by site, host and opening time, or (Open false) the most
// recently active alarms, open or cleared, newest first.
func (s *sqlStore) Alarms(ctx context.Context, f AlarmFilter) ([]Alarm, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var a args
	where := s.siteHost(&a, f.Site, f.Host)
	if f.Open {
		where = append(where, "cleared IS NULL")
	} else {
		// A row closed because its alarm moved (a trap joined by its log line, an HSM's
		// address replaced by its name) is the same fault going on under the new row: an
		// operator's list of cleared alarms does not show it.
		where = append(where, "cleared_by NOT LIKE 'moved to %'")
	}
	q := "SELECT " + selectAlarmCols + " FROM alarms"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Open {
		// Every open alarm: there are at most as many as hosts times alarm keys, and an
		// operator must see all of them.
		q += " ORDER BY site, host, opened, key"
	} else {
		q += " ORDER BY COALESCE(cleared, last_seen) DESC, id DESC LIMIT " + a.add(int64(limit))
	}
	var out []Alarm
	err = s.db.read(ctx, func(qr querier) error {
		return eachRow(ctx, qr, q, a, func(r rows) error {
			al, err := scanAlarm(r)
			out = append(out, al)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: alarms: %w", err)
	}
	return out, nil
}

func scanAlarm(r rows) (Alarm, error) {
	var (
		al                         Alarm
		opened, lastSeen, asserts  int64
		cleared, ackedAt, closedAt sql.NullInt64
		flapping                   bool
		ackedBy, ackComment        string
		closedBy, closeComment     string
		evidence                   string
	)
	err := r.Scan(&al.ID, &al.Site, &al.Host, &al.Key, &al.Rule, &al.Title, &al.Component,
		&al.Level, &al.Notification, &al.Message, &al.Input, &opened, &lastSeen, &asserts,
		&flapping, &cleared, &al.ClearedBy, &ackedAt, &ackedBy, &ackComment, &closedAt, &closedBy, &closeComment, &evidence)
	if err != nil {
		return al, fmt.Errorf("read alarm: %w", err)
	}
	al.Opened, al.LastSeen, al.Asserts, al.Flapping = fromNano(opened), fromNano(lastSeen), asserts, flapping
	if cleared.Valid {
		al.Cleared = fromNano(cleared.Int64)
	}
	if evidence != "" {
		var e alarmEvidence
		if err := json.Unmarshal([]byte(evidence), &e); err != nil {
			return al, fmt.Errorf("alarm %d: evidence: %w", al.ID, err)
		}
		al.Alarm.ID, al.Evidence, al.Sources = e.ID, e.Evidence, e.Sources
	}
	al.Acknowledged = scanAction(ackedAt, ackedBy, ackComment)
	al.Closed = scanAction(closedAt, closedBy, closeComment)
	return al, nil
}

// alarmEvidence is the evidence column: what the state knows of an alarm beyond its row.
type alarmEvidence struct {
	ID       string           `json:"id,omitempty"`
	Evidence []state.Evidence `json:"evidence,omitempty"`
	Sources  map[string]int64 `json:"sources,omitempty"`
}

func evidenceJSON(a state.Alarm) string {
	if a.ID == "" && len(a.Evidence) == 0 && len(a.Sources) == 0 {
		return ""
	}
	b, err := json.Marshal(alarmEvidence{ID: a.ID, Evidence: a.Evidence, Sources: a.Sources})
	if err != nil {
		return "" // unreachable: plain strings, times and counts
	}
	return string(b)
}

package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadFilter is wrapped by the errors of queries whose filter makes no sense (an
// unknown level, a limit out of range); ErrBadCursor is one of them.
var ErrBadFilter = errors.New("store: bad filter")

// args collects the arguments of a statement and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Events pages through events newest first: by ts, then id, both descending. The cursor
// holds the (ts, id) of the page's last event, and the next page starts strictly below
// it, so that events written meanwhile neither repeat nor shift a page (they are newer
// than the cursor, or they are not yet visible).
func (s *sqlStore) Events(ctx context.Context, f EventFilter) (EventPage, error) {
	var page EventPage
	next, err := s.EachEvent(ctx, f, func(se StoredEvent) (bool, error) {
		page.Events = append(page.Events, se)
		return true, nil
	})
	if err != nil {
		return EventPage{}, err
	}
	page.Next = next
	return page, nil
}

// EachEvent reads the page Events would return one event at a time, calling fn with each
// as its row is read, so that a caller that encodes and drops each event holds one
// event's text at a time, not a page's (1,000 events of 65 KB are 130 MB). fn returns
// false to refuse the event it was given and stop: the event is not part of the page,
// and next continues from it (a caller's byte cap). next is "" when the page ended with
// the filter's last event.
func (s *sqlStore) EachEvent(ctx context.Context, f EventFilter, fn func(StoredEvent) (bool, error)) (next string, err error) {
	q, a, limit, err := s.eventsSQL(f)
	if err != nil {
		return "", err
	}
	err = s.db.read(ctx, func(qr querier) error {
		next = ""
		r, err := qr.query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer r.Close()
		var lastTS, lastID int64
		taken := 0
		for r.Next() {
			se, ts, err := scanEvent(r)
			if err != nil {
				return err
			}
			if taken == limit {
				next = encodeCursor(lastTS, lastID)
				break
			}
			ok, err := fn(se)
			if err != nil {
				return err
			}
			if !ok {
				switch {
				case taken > 0:
					next = encodeCursor(lastTS, lastID)
				case se.ID < math.MaxInt64:
					// Nothing taken: continue from this event itself ("below" the
					// same ts and the id after it).
					next = encodeCursor(ts, se.ID+1)
				default:
					next = f.Cursor
				}
				break
			}
			taken++
			lastTS, lastID = ts, se.ID
		}
		return r.Err()
	})
	if err != nil {
		return "", fmt.Errorf("store: events: %w", err)
	}
	return next, nil
}

// seriousRank is the least level_rank in the partial index events_serious_ts (schema 8):
// warning.
const seriousRank = 3

// eventsSQL builds the query of one page of events: its text, arguments and page size.
func (s *sqlStore) eventsSQL(f EventFilter) (string, args, int, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return "", nil, 0, err
	}
	c := s.d.cleanText
	var a args
	var where []string
	if f.Site != "" {
		where = append(where, s.d.listSite+" = "+a.add(c(f.Site)))
	}
	if f.Host != "" {
		where = append(where, "host = "+a.add(c(f.Host)))
	}
	if f.ID != 0 {
		where = append(where, "id = "+a.add(f.ID))
	}
	if f.Component != "" {
		// The literal lets the planner see that events_component_ts's condition holds.
		where = append(where, "component = "+a.add(c(f.Component)), "component <> ''")
	}
	if f.MinLevel != "" {
		r := levelRank(f.MinLevel)
		if r == 0 {
			return "", nil, 0, fmt.Errorf("%w: unknown level %q", ErrBadFilter, f.MinLevel)
		}
		where = append(where, "level_rank >= "+a.add(int64(r)))
		if r >= seriousRank {
			// Literal, so that the planner sees it implies events_serious_ts's condition.
			where = append(where, "level_rank >= "+strconv.Itoa(seriousRank))
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "ts >= "+a.add(unixNano(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "ts < "+a.add(unixNano(f.Until)))
	}
	if f.Text != "" {
		p := a.add(likePattern(c(f.Text)))
		where = append(where, fmt.Sprintf(`(message %[1]s %[2]s ESCAPE '%[3]s' OR raw %[1]s %[2]s ESCAPE '%[3]s')`, s.d.like, p, likeEscape))
	}
	if f.Cursor != "" {
		ts, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		t, i := a.add(ts), a.add(id)
		where = append(where, fmt.Sprintf("(ts < %[1]s OR (ts = %[1]s AND id < %[2]s))", t, i))
	}
	q := "SELECT " + selectEventCols(s.d) + " FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// One more than the page: whether it exists says if there is a next page.
	q += " ORDER BY ts DESC, id DESC LIMIT " + a.add(int64(limit+1))
	return q, a, limit, nil
}

// The cursor is opaque to clients: "e1:<ts>:<id>" in URL-safe base64.
const cursorPrefix = "e1:"

func encodeCursor(ts, id int64) string {
	return base64.RawURLEncoding.EncodeToString(
		[]byte(cursorPrefix + strconv.FormatInt(ts, 10) + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (ts, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrBadFilter, ErrBadCursor)
	}
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	tsText, idText, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("%w: %w", ErrBadFilter, ErrBadCursor)
	}
	ts, err1 := strconv.ParseInt(tsText, 10, 64)
	id, err2 := strconv.ParseInt(idText, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrBadFilter, ErrBadCursor)
	}
	return ts, id, nil
}

// fromNano is the inverse of unixNano, in UTC; the saturated minimum (a zero time) reads
// back as the zero time.
func fromNano(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// HSMs sums up every host seen in events, alarms or samples, by site and host.
func (s *sqlStore) HSMs(ctx context.Context, f HSMFilter) ([]HSM, error) {
	var a args
	siteCond := ""
	if f.Site != "" {
		siteCond = " WHERE site = " + a.add(s.d.cleanText(f.Site))
	}
	and := func(cond string) string {
		if siteCond == "" {
			return " WHERE " + cond
		}
		return siteCond + " AND " + cond
	}
	type hostID struct{ site, host string }
	byHost := map[hostID]*HSM{}
	get := func(site, host string) *HSM {
		h := byHost[hostID{site, host}]
		if h == nil {
			h = &HSM{Site: site, Host: host, Events: map[string]int64{}}
			byHost[hostID{site, host}] = h
		}
		return h
	}
	err := s.db.read(ctx, func(qr querier) error {
		err := eachRow(ctx, qr, "SELECT site, host, level, n, last_ts FROM event_counts"+and("n > 0"),
			a, func(r rows) error {
				var site, host, level string
				var n, last int64
				if err := r.Scan(&site, &host, &level, &n, &last); err != nil {
					return err
				}
				h := get(site, host)
				if level == "" {
					level = "none"
				}
				h.Events[level] += n
				if t := fromNano(last); t.After(h.LastEvent) {
					h.LastEvent = t
				}
				return nil
			})
		if err != nil {
			return err
		}
		err = eachRow(ctx, qr, "SELECT site, host, COUNT(*) FROM alarms"+and("cleared IS NULL")+
			" GROUP BY site, host", a, func(r rows) error {
			var site, host string
			var n int64
			if err := r.Scan(&site, &host, &n); err != nil {
				return err
			}
			get(site, host).OpenAlarms = n
			return nil
		})
		if err != nil {
			return err
		}
		return eachRow(ctx, qr, "SELECT site, host, metric, labels, value, ts FROM samples_latest"+siteCond+
			" ORDER BY site, host, metric, labels", a, func(r rows) error {
			var sm Sample
			var labels string
			var ts int64
			if err := r.Scan(&sm.Site, &sm.Host, &sm.Metric, &labels, &sm.Value, &ts); err != nil {
				return err
			}
			if labels != "{}" {
				if err := json.Unmarshal([]byte(labels), &sm.Labels); err != nil {
					return fmt.Errorf("sample %s/%s labels: %w", sm.Host, sm.Metric, err)
				}
			}
			sm.Time = fromNano(ts)
			h := get(sm.Site, sm.Host)
			h.Samples = append(h.Samples, sm)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: hsms: %w", err)
	}
	out := make([]HSM, 0, len(byHost))
	for _, h := range byHost {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Site != out[j].Site {
			return out[i].Site < out[j].Site
		}
		return out[i].Host < out[j].Host
	})
	return out, nil
}

// eachRow runs a query and calls fn for each row.
func eachRow(ctx context.Context, q querier, sql string, a args, fn func(r rows) error) error {
	r, err := q.query(ctx, sql, a...)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if err := fn(r); err != nil {
			return err
		}
	}
	return r.Err()
}

// pageLimit checks a filter's Limit: 0 is DefaultLimit.
func pageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultLimit, nil
	case limit < 0 || limit > MaxLimit:
		return 0, fmt.Errorf("%w: limit %d not in 1..%d", ErrBadFilter, limit, MaxLimit)
	}
	return limit, nil
}

// siteHost starts a WHERE list with the filters every listing shares.
func (s *sqlStore) siteHost(a *args, site, host string) []string {
	var where []string
	if site != "" {
		where = append(where, "site = "+a.add(s.d.cleanText(site)))
	}
	if host != "" {
		where = append(where, "host = "+a.add(s.d.cleanText(host)))
	}
	return where
}

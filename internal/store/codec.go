package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// This file turns events into rows and back. The row keeps every field of the event, so
// that a stored event reads back as the same event (same JSON form, same field kinds and
// order); it adds ts, the sort key, and level_rank, the level as a number.

// eventColumns are the columns eventArgs fills, in its order, with their PostgreSQL
// array types (insertUnnest on PostgreSQL sends each column as one array).
var eventColumns = []struct{ name, pgType string }{
	{"site", "text"}, {"key", "text"}, {"ts", "int8"}, {"time", "text"}, {"host", "text"},
	{"source", "text"}, {"facility", "text"}, {"severity", "text"}, {"process", "text"},
	{"pid", "int8"}, {"message", "text"}, {"component", "text"}, {"class", "text"},
	{"rule", "text"}, {"title", "text"}, {"level", "text"}, {"level_rank", "int8"},
	{"notification", "text"}, {"assert", "bool"}, {"test", "bool"}, {"fields", "text"},
	{"input", "text"}, {"reason", "text"}, {"raw", "text"}, {"ingested", "int8"},
	{"cleared", "text"},
}

// eventCols is the number of arguments of one event.
var eventCols = len(eventColumns)

// eventColumnList is "site, key, ts, ...": the INSERT's column list.
func eventColumnList() string {
	return strings.Join(eventColumnNames, ", ")
}

// eventColumnNames are eventColumns' names, in order (COPY takes them as a list).
var eventColumnNames = func() []string {
	names := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		names[i] = c.name
	}
	return names
}()

// multiRowInsert stores n events with one statement: a key already stored for the site
// is skipped (the only unique constraints of events are the id and (site, key); a NULL
// key never conflicts), and the keys of the rows stored are returned (storedKeys).
// SQLite's placeholders are "?", numbered by position.
func multiRowInsert(n int, placeholder string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO events (" + eventColumnList() + ") VALUES ")
	row := "(" + strings.Repeat(placeholder+", ", eventCols-1) + placeholder + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// storedKeys reads the keys an insert of chunk returned and says which rows of chunk
// were stored: a row without a key always is; of rows with the same key, as many as
// were returned, first come first (a key twice in one batch is stored once, the second
// is a replay as it would be in the next batch).
func storedKeys(r rows, chunk [][]any) ([]bool, error) {
	defer r.Close()
	returned := map[string]int{}
	for r.Next() {
		var k sql.NullString
		if err := r.Scan(&k); err != nil {
			return nil, err
		}
		if k.Valid {
			returned[k.String]++
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	out := make([]bool, len(chunk))
	for i, a := range chunk {
		k, keyed := a[1].(string)
		if !keyed {
			out[i] = true
			continue
		}
		if returned[k] > 0 {
			returned[k]--
			out[i] = true
		}
	}
	return out, nil
}

// Positions in eventArgs' list that Write's counts read.
const (
	argSite  = 0
	argTS    = 2
	argHost  = 4
	argLevel = 15
)

// eventArgs returns the arguments of one event, in the order of eventColumns. fallback is when it
// is stored: its ingest time (retention goes by it), and the sort key of an event
// without a time, so that time filters treat it as recent rather than as infinitely old.
func eventArgs(d dialect, site, key string, e *event.Event, fallback time.Time) []any {
	c := d.cleanText
	var keyArg, assertArg, fieldsArg any
	if key != "" {
		keyArg = c(key)
	}
	switch e.Assert {
	case event.True:
		assertArg = true
	case event.False:
		assertArg = false
	}
	if len(e.Fields) > 0 {
		fieldsArg = string(encodeFields(e.Fields, c))
	}
	ts, text := fallback, ""
	if !e.Time.IsZero() {
		ts, text = e.Time, e.Time.Format(time.RFC3339Nano)
	}
	return []any{site, keyArg, unixNano(ts), text, c(e.Host), c(e.Source), c(e.Facility),
		c(e.Severity), c(e.Process), int64(e.PID), c(e.Message), c(e.Component), c(e.Class),
		c(e.Rule), c(e.Title), c(e.Level), int64(levelRank(e.Level)), c(e.Notification),
		assertArg, e.Test, fieldsArg, c(e.Input), c(e.Reason), c(e.Raw), unixNano(fallback), c(e.Cleared)}
}

// selectEventCols lists the columns scanEvent reads, in its order.
func selectEventCols(d dialect) string {
	return `id, site, key, ts, time, host, source, facility, severity, process, pid, message,
	component, class, rule, title, level, notification, assert, test, ` + d.fieldsCol + `,
	input, reason, raw, cleared`
}

// scanEvent reads one row of selectEventCols; it returns the row's ts for the cursor.
func scanEvent(r rows) (StoredEvent, int64, error) {
	var (
		se            StoredEvent
		e             = &se.Event
		key, fields   sql.NullString
		assert        sql.NullBool
		ts, pid       int64
		text          string
		test          bool
		level, source string
	)
	err := r.Scan(&se.ID, &se.Site, &key, &ts, &text, &e.Host, &source, &e.Facility,
		&e.Severity, &e.Process, &pid, &e.Message, &e.Component, &e.Class, &e.Rule, &e.Title,
		&level, &e.Notification, &assert, &test, &fields, &e.Input, &e.Reason, &e.Raw, &e.Cleared)
	if err != nil {
		return se, 0, fmt.Errorf("store: read event: %w", err)
	}
	se.Key, e.Source, e.Level, e.PID, e.Test = key.String, source, level, int(pid), test
	if assert.Valid {
		e.Assert = event.TriOf(assert.Bool)
	}
	if text != "" {
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			e.Time = t
		} else {
			// A year outside 0..9999 has no RFC 3339 form to come back from: keep the
			// instant (saturated to 1678..2262) rather than fail every query that meets
			// the row.
			e.Time = fromNano(ts)
		}
	}
	if fields.Valid && fields.String != "" {
		fs, err := decodeFields([]byte(fields.String))
		if err != nil {
			return se, 0, fmt.Errorf("store: event %d: fields: %w", se.ID, err)
		}
		e.Fields = fs
	}
	return se, ts, nil
}

// encodeFields writes fields as one JSON object in their order. Numbers keep their kind
// on the way back: a float is always written with a '.' or an exponent ("2.0", not "2").
// What JSON cannot hold is changed: NaN and infinite floats are stored as the strings
// "NaN", "+Inf", "-Inf" (and read back as strings), invalid UTF-8 in keys and strings as
// U+FFFD.
func encodeFields(fs event.Fields, clean func(string) string) []byte {
	b := []byte{'{'}
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, clean(f.Key))
		b = append(b, ':')
		switch f.Kind {
		case event.KindInt:
			b = strconv.AppendInt(b, f.Int, 10)
		case event.KindFloat:
			if math.IsNaN(f.Float) || math.IsInf(f.Float, 0) {
				b = appendJSONString(b, strconv.FormatFloat(f.Float, 'g', -1, 64))
				break
			}
			n := len(b)
			b = strconv.AppendFloat(b, f.Float, 'g', -1, 64)
			if !bytes.ContainsAny(b[n:], ".eE") {
				b = append(b, ".0"...)
			}
		case event.KindBool:
			b = strconv.AppendBool(b, f.Int != 0)
		default:
			b = appendJSONString(b, clean(f.Str))
		}
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// decodeFields reads encodeFields' object, keeping the order of its keys.
func decodeFields(b []byte) (event.Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %s", b)
	}
	var fs event.Fields
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("key %v is not a string", tok)
		}
		if tok, err = dec.Token(); err != nil {
			return nil, err
		}
		f := event.Field{Key: k}
		switch v := tok.(type) {
		case string:
			f.Kind, f.Str = event.KindString, v
		case bool:
			f.Kind = event.KindBool
			if v {
				f.Int = 1
			}
		case json.Number:
			s := v.String()
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && !strings.ContainsAny(s, ".eE") {
				f.Kind, f.Int = event.KindInt, n
			} else if x, err := strconv.ParseFloat(s, 64); err == nil {
				f.Kind, f.Float = event.KindFloat, x
			} else {
				return nil, fmt.Errorf("field %q: number %s: %w", k, s, err)
			}
		default:
			return nil, fmt.Errorf("field %q: unsupported value %v", k, tok)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// unixNano is t as nanoseconds since 1970 UTC, saturated outside years 1678..2262 (the
// range of an int64) so that a wild year sorts first or last instead of wrapping.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nullNano is unixNano for a nullable column: the zero time is NULL.
func nullNano(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return unixNano(t)
}

// Levels lists the levels of schema v1, most serious first.
// Levels returns the levels of schema v1, most serious first.
func Levels() []string { return event.Levels() }

func levelRank(l string) int { return event.LevelRank(l) }

// ValidLevel reports whether l is one of the levels of schema v1.
func ValidLevel(l string) bool { return levelRank(l) > 0 }

// likeEscape is the escape character of LIKE patterns: '!' rather than '\', whose
// meaning in a PostgreSQL string literal depends on standard_conforming_strings.
const likeEscape = "!"

// likePattern turns a substring into a LIKE pattern that matches it literally: the
// wildcards % and _ and the escape character itself are escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")
	return "%" + r.Replace(s) + "%"
}

// keepText is cleanText for SQLite, which stores any bytes.
func keepText(s string) string { return s }

// pgText makes s valid PostgreSQL text: each invalid UTF-8 byte and each NUL byte becomes
// U+FFFD, as the JSON form writes invalid bytes, so the event's JSON form is unchanged by
// a round trip through PostgreSQL except for NUL bytes.
func pgText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

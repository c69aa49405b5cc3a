// Package store keeps events, alarms and poll samples in a database: SQLite embedded in
// a file by default (the C library through cgo: github.com/mattn/go-sqlite3, which
// measured 30 % less CPU per event than the pure-Go modernc.org/sqlite, bench/README.md),
// or PostgreSQL when the daemon is given a
// postgres:// URL. Both sit behind one interface and run the same SQL wherever the
// dialects agree; what differs lives in sqlite.go and postgres.go.
//
// Several daemons may share one PostgreSQL database, one per site: every row carries the
// site of the daemon that wrote it, writes and alarm updates only ever touch rows of the
// store's own site, and queries show one site or all of them.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Batch is what one batch of the pipeline stores (Store.WriteBatch): its records' events,
// the hosts it renamed (an HSM known by its address, then by its name: {from, to}) and
// the alarm changes the state tracker decided.
type Batch struct {
	Records []component.Record
	Renames [][2]string
	Alarms  []state.Alarm
}

// Store is the event store. Its methods are safe for concurrent use; writes are
// serialised inside the store (SQLite has one writer).
type Store interface {
	// Site is the site this store writes as.
	Site() string
	// Write stores the records' events in one transaction and returns once it is
	// committed; the caller acks the records then (Write never calls Ack). A record whose
	// Key was stored before for this site is skipped, so a record re-read after a crash
	// is stored exactly once, and replayed reports it (replayed[i] for recs[i]): the
	// pipeline then keeps it from the other sinks, which had it before the crash.
	// Records without a key are always stored.
	Write(ctx context.Context, recs []component.Record) (replayed []bool, err error)
	// PutAlarms records alarm changes from the state tracker in one transaction: an open
	// alarm is inserted or merged into the open row of its host and key, a cleared alarm
	// closes that row; a replayed change is a no-op. See alarms.go for the rules.
	PutAlarms(ctx context.Context, alarms []state.Alarm) error
	// WriteBatch does Write, RenameHost for each rename and PutAlarms, in that order, in
	// one transaction: a pipeline batch and what it decided are committed together.
	WriteBatch(ctx context.Context, b Batch) (replayed []bool, err error)
	// RenameHost moves this site's events and samples of host from to host to (an HSM
	// first known by its address, then by its name).
	RenameHost(ctx context.Context, from, to string) error
	// PutSamples stores poll samples in one transaction.
	PutSamples(ctx context.Context, samples []Sample) error

	// Events returns one page of events, newest first.
	Events(ctx context.Context, f EventFilter) (EventPage, error)
	// EachEvent reads the same page one event at a time (query.go): fn refuses an
	// event to stop there; next continues from the first event not taken.
	EachEvent(ctx context.Context, f EventFilter, fn func(StoredEvent) (bool, error)) (next string, err error)
	// Alarms lists open alarms, or recent ones including cleared.
	Alarms(ctx context.Context, f AlarmFilter) ([]Alarm, error)
	// HSMs returns one row per host seen in events, alarms or samples.
	HSMs(ctx context.Context, f HSMFilter) ([]HSM, error)
	// Samples returns the history of one host's samples, oldest first.
	Samples(ctx context.Context, f SampleFilter) (SamplePage, error)

	// Actions records operator actions (actions.go).
	Actions

	// Retain deletes what the policy no longer keeps, oldest first, from this store's
	// site only: events by when they were stored, samples by their time. Open alarms are
	// never deleted, nor their evidence (their asserts and clears since they opened).
	Retain(ctx context.Context, r Retention, now time.Time) (Pruned, error)
	// Close releases the database.
	Close() error
}

// DefaultSite is the site of a store opened without one.
const DefaultSite = "default"

// Options configure Open.
type Options struct {
	// Site names the daemon's site; every row written carries it. Default DefaultSite.
	Site string
	// Logger receives the store's own messages (migrations, retention). Default
	// slog.Default().
	Logger *slog.Logger
	// MaxConns bounds the connections to PostgreSQL, and the SQLite readers (SQLite
	// always has exactly one writer). Default 4.
	MaxConns int
	// BusyTimeout is how long SQLite waits for a lock held by another connection or
	// process before a statement fails. Default 10s.
	BusyTimeout time.Duration
	// ConnectRetry makes Open wait for a PostgreSQL server it cannot reach (not started
	// yet, a network outage at boot): it tries again with a back-off from 1 s to 30 s,
	// logging each failure, until it connects or ctx ends. A server that answers with an
	// error (a wrong password, a missing database) fails Open at once, as without it.
	ConnectRetry bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Site == "" {
		o.Site = DefaultSite
	}
	if strings.TrimSpace(o.Site) != o.Site || len(o.Site) > 200 || !utf8.ValidString(o.Site) ||
		strings.ContainsRune(o.Site, 0) {
		return o, fmt.Errorf("store: site %q: want UTF-8 text of at most 200 bytes, without surrounding spaces", o.Site)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	return o, nil
}

// Open opens (creating it if needed) the store named by dsn and brings its schema up to
// date. dsn is a file or folder path, "sqlite:PATH", or a "postgres://" /
// "postgresql://" URL (libpq's URL form; key=value strings are not accepted, so that a
// path can never be mistaken for one). A folder holds the database as hsmwatch.db.
func Open(ctx context.Context, dsn string, opts Options) (Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if m := schemeDSN.FindStringSubmatch(dsn); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql", "sqlite":
		default:
			return nil, fmt.Errorf("store: unknown scheme %s:// (want sqlite:PATH, a path or postgres://...)", m[1])
		}
	}
	switch kind, target := classifyDSN(dsn); kind {
	case "postgres":
		return openPostgres(ctx, target, opts)
	case "sqlite":
		if !strings.HasPrefix(strings.ToLower(dsn), "sqlite:") && keyValueDSN.MatchString(dsn) {
			// "host=db dbname=hsm" would otherwise become a file of that name.
			return nil, fmt.Errorf("store: %q looks like a PostgreSQL key=value string: give a postgres:// URL (or sqlite:PATH for a file of that name)", dsn)
		}
		return openSQLite(ctx, target, opts)
	default:
		return nil, fmt.Errorf("store: empty database name (want a path, sqlite:PATH or postgres://...)")
	}
}

// schemeDSN matches a URL's scheme.
var schemeDSN = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// keyValueDSN matches the start of libpq's key=value connection strings.
var keyValueDSN = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

func classifyDSN(dsn string) (kind, target string) {
	lower := strings.ToLower(dsn)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return "postgres", dsn
	case strings.HasPrefix(lower, "sqlite:"):
		dsn = dsn[len("sqlite:"):]
	}
	if dsn == "" {
		return "", ""
	}
	return "sqlite", dsn
}

// ErrBadCursor is returned by Events for a cursor it did not write.
var ErrBadCursor = errors.New("store: bad cursor")

// MaxLimit is the most events one page holds.
const MaxLimit = 1000

// DefaultLimit is the page size when EventFilter.Limit is 0.
const DefaultLimit = 100

// EventFilter selects events. Empty fields do not filter.
type EventFilter struct {
	Site      string // "" for all sites
	Host      string // exact
	Component string // exact
	// MinLevel keeps events of this level or more serious (critical > major > minor >
	// warning > info > debug); events without a level are left out when it is set.
	MinLevel string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	// Text keeps events whose message or raw line contains it, case-insensitively
	// (SQLite: ASCII letters only; PostgreSQL: ILIKE, all letters).
	Text   string
	Limit  int    // 1..MaxLimit; 0 means DefaultLimit
	Cursor string // EventPage.Next of the previous page
	ID     int64  // one event by its id; 0 for any
}

// StoredEvent is an event with the store's bookkeeping.
type StoredEvent struct {
	ID    int64
	Site  string
	Key   string // the record's idempotency key, "" when it had none
	Event event.Event
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events []StoredEvent
	// Next continues after the last event of this page; "" when there is no more.
	Next string
}

// AlarmFilter selects alarms.
type AlarmFilter struct {
	Site string // "" for all sites
	Host string
	// Open lists the open alarms (by host and opening time); otherwise the most recently
	// active alarms, open or cleared, newest first, at most Limit.
	Open  bool
	Limit int // 0 means DefaultLimit; at most MaxLimit
}

// Alarm is a stored alarm: the tracker's view plus the row's id and site.
type Alarm struct {
	ID   int64  `json:"id"`
	Site string `json:"site"`
	state.Alarm
	// Acknowledged is the operator's acknowledgement of the alarm, nil when none;
	// Closed their manual close (the alarm's cleared_by is then ClearedByOperator).
	Acknowledged *Action `json:"acknowledged,omitempty"`
	Closed       *Action `json:"closed,omitempty"`
}

// Sample is one polled value.
type Sample struct {
	Site   string            `json:"site,omitempty"` // set on read; writes use the store's site
	Host   string            `json:"host"`
	Metric string            `json:"metric"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
	Time   time.Time         `json:"time"`
}

// DefaultSampleLimit is the most samples Samples returns when SampleFilter.Limit is 0;
// MaxSampleLimit is the most it returns at all.
const (
	DefaultSampleLimit = 5000
	MaxSampleLimit     = 50000
)

// SampleFilter selects the samples of one host. Empty fields other than Host do not
// filter.
type SampleFilter struct {
	Site   string    // "" for all sites
	Host   string    // exact; required
	Metric string    // exact
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	// Limit keeps the newest samples of the range: 1..MaxSampleLimit; 0 means
	// DefaultSampleLimit.
	Limit int
}

// SamplePage is a host's samples, oldest first.
type SamplePage struct {
	Samples []Sample
	// Truncated says that older samples of the range were left out (Limit was reached).
	Truncated bool
}

// HSMFilter selects hosts.
type HSMFilter struct {
	Site string // "" for all sites
}

// HSM sums up one host of one site.
type HSM struct {
	Site string `json:"site"`
	Host string `json:"host"`
	// LastEvent is the time of the newest stored event (UTC).
	LastEvent time.Time `json:"last_event,omitzero"`
	// Events counts stored events by level; events without a level count as "none".
	Events     map[string]int64 `json:"events"`
	OpenAlarms int64            `json:"open_alarms"`
	// Samples holds the latest value of each metric and label set.
	Samples []Sample `json:"samples,omitempty"`
}

// Retention says what the store keeps. Zero fields do not limit.
type Retention struct {
	// MaxAge deletes events stored longer ago than this (whatever their own time),
	// samples older than this, and alarms cleared longer ago.
	MaxAge time.Duration
	// MaxEvents and MaxSamples bound the rows of the store's site.
	MaxEvents  int64
	MaxSamples int64
	// MaxBytes bounds the size of a SQLite database (pages in use), or of the store's
	// site's rows in PostgreSQL (a database shared by sites is bounded site by site).
	MaxBytes int64
}

// Pruned counts the rows Retain deleted.
type Pruned struct {
	Events, Samples, Alarms int64
}

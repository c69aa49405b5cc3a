package store

import (
	"context"
	"time"
)

// backend is what the shared SQL code needs from a database. Both dialects accept $1, $2,
// ... placeholders (SQLite reads them as named parameters "1", "2", ...), so one SQL text
// serves both wherever the dialects agree.
type backend interface {
	// read runs fn with a querier for reading (a pool: SQLite's readers, PostgreSQL's
	// connections).
	read(ctx context.Context, fn func(q querier) error) error
	// write runs fn in one write transaction and commits it; an error from fn rolls it
	// back. SQLite's writes are serialised on its one writer connection.
	write(ctx context.Context, fn func(q querier) error) error
	close() error
}

// querier runs statements on one connection or transaction.
type querier interface {
	exec(ctx context.Context, sql string, args ...any) (int64, error)
	query(ctx context.Context, sql string, args ...any) (rows, error)
	// execMany runs one statement once per argument list, prepared once (SQLite) or
	// pipelined in one round trip (PostgreSQL), and returns the rows each one affected.
	execMany(ctx context.Context, sql string, argLists [][]any) ([]int64, error)
	// insertEvents stores events (eventArgs each) in as few statements as the dialect
	// allows, skipping a key the site holds, and says which rows it stored. Only in a
	// write transaction.
	insertEvents(ctx context.Context, argLists [][]any) (inserted []bool, err error)
}

// rows iterates over a result; Close is safe to call twice.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// dialect holds what differs in SQL text between the backends.
type dialect struct {
	name string
	// like is the case-insensitive pattern operator: SQLite's LIKE folds ASCII letters,
	// PostgreSQL's LIKE does not, its ILIKE does.
	like string
	// fieldsCol reads the fields column as text (PostgreSQL keeps it as json).
	fieldsCol string
	// listSite is how the event listing names the site column in its filter. SQLite's
	// is "+site": the unary + keeps its planner from reading an index that starts with
	// the site (events_site_ingested) and sorting every event of
	// the site, since SQLite's schema 7 has no (site, ts, id) index; it reads events_ts
	// newest first instead, which a store of one site filters for nothing.
	listSite string
	// greatest is the two-argument maximum: SQLite's scalar MAX, PostgreSQL's GREATEST.
	greatest string
	// cleanText makes strings acceptable to the database: PostgreSQL refuses invalid
	// UTF-8 and NUL bytes in text, and a batch that fails on one damaged line would
	// block the pipeline forever.
	cleanText func(string) string
}

// sqlStore implements Store on a backend; sqlite.go and postgres.go supply the backend
// and the few statements that differ.
type sqlStore struct {
	site string
	db   backend
	d    dialect
	opts Options
	// usedBytes reports the size of the database in use (SQLite), nil when the backend
	// has no such notion for one site (PostgreSQL).
	usedBytes func(ctx context.Context) (int64, error)
	// compact returns freed pages to the file system after retention (SQLite).
	compact func(ctx context.Context) error
	// now is the clock for events without a time (their sort key).
	now func() time.Time
}

func (s *sqlStore) Site() string { return s.site }

func (s *sqlStore) Close() error { return s.db.close() }

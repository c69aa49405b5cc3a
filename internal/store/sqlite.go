package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // the C library through cgo
)

// sqliteDriver is the driver of the readers: mattn/go-sqlite3's, which also reads the
// pragmas the DSN names. sqliteWriter is the same driver whose connections also keep
// their temporary tables in memory (the driver reads no temp_store from the DSN).
const (
	sqliteDriver = "sqlite3"
	sqliteWriter = "sqlite3-hsmwatch-writer"
)

func init() {
	sql.Register(sqliteWriter, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// A multi-row INSERT keeps a statement journal (to undo that statement alone
		// should it fail half-way): in memory it costs a copy per page changed, on disk
		// a write system call each. It is never needed after the statement, so losing it
		// in a crash loses nothing: the transaction's own rollback is the WAL's.
		if _, err := c.Exec("PRAGMA temp_store = MEMORY", nil); err != nil {
			return err
		}
		// The writer checkpoints only when the background one fell behind (checkpoint.go).
		_, err := c.Exec("PRAGMA wal_autocheckpoint = "+strconv.Itoa(walBound), nil)
		return err
	}})
}

// sqliteFile is the database file inside a folder given as the store.
const sqliteFile = "hsmwatch.db"

// openSQLite opens the embedded store. It keeps two connection pools on the file: one
// writer connection (SQLite allows one writer at a time; queuing writes in Go is cheaper
// and more predictable than letting connections fight over the lock) whose transactions
// begin IMMEDIATE, and a pool of read-only readers, which WAL mode lets run alongside the
// writer.
func openSQLite(ctx context.Context, target string, opts Options) (Store, error) {
	file, err := sqlitePath(target)
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(file); err != nil {
		return nil, err
	}
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	wq := url.Values{
		"_busy_timeout": {busy},
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		// FULL: a commit is on disk before Write returns and the caller acks its source;
		// NORMAL could lose the last commits on a power cut after the ack.
		"_synchronous": {"FULL"},
		// Set only while the file is new (SQLite ignores it afterwards): lets retention
		// give freed pages back to the file system with PRAGMA incremental_vacuum.
		"_auto_vacuum": {"incremental"},
	}
	w, err := sql.Open(sqliteWriter, file+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	rq := url.Values{"_busy_timeout": {busy}, "_query_only": {"1"}}
	r, err := sql.Open(sqliteDriver, file+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	r.SetMaxOpenConns(opts.MaxConns)
	r.SetMaxIdleConns(opts.MaxConns)
	cq := url.Values{"_busy_timeout": {busy}, "_synchronous": {"FULL"}}
	ck, err := sql.Open(sqliteDriver, file+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	b := &sqliteBackend{w: w, r: r, ck: startCheckpointer(ck, opts.Logger)}
	d := dialect{name: "sqlite", like: "LIKE", fieldsCol: "fields", listSite: "+site", greatest: "MAX", cleanText: keepText}
	if err := migrate(ctx, b, d, "", opts); err != nil {
		b.close()
		return nil, err
	}
	if err := b.prepareInserts(ctx); err != nil {
		b.close()
		return nil, err
	}
	opts.Logger.Debug("store: opened", "dialect", "sqlite", "file", file, "site", opts.Site)
	return &sqlStore{site: opts.Site, db: b, d: d, opts: opts, usedBytes: b.usedBytes,
		compact: b.compact, now: time.Now}, nil
}

// sqlitePath resolves the store's file: a folder (existing, or named with a trailing
// separator) holds hsmwatch.db; the parent folder is created.
func sqlitePath(p string) (string, error) {
	if strings.ContainsAny(p, "?#") {
		// The driver reads options after '?': a path containing one cannot be named.
		return "", fmt.Errorf("store: sqlite path %q: '?' and '#' are not supported in the path", p)
	}
	dirLike := strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(os.PathSeparator))
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("store: sqlite path %q: %w", p, err)
	}
	if fi, err := os.Stat(abs); dirLike || (err == nil && fi.IsDir()) {
		abs = filepath.Join(abs, sqliteFile)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return abs, nil
}

// ownerOnly creates file with mode 0600 when it does not exist, and takes the group's
// and others' permissions off it when it does: the store holds every event's raw line.
// SQLite gives its -wal and -shm files the database file's permissions.
func ownerOnly(file string) error {
	fh, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("store: %s: %w", file, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := fh.Chmod(st.Mode().Perm() & 0o700); err != nil {
			return fmt.Errorf("store: %s: %w", file, err)
		}
	}
	return nil
}

type sqliteBackend struct {
	w *sql.DB // one connection: the writer
	r *sql.DB // readers
	// ck checkpoints the WAL beside the writer (checkpoint.go).
	ck *checkpointer
	// inserts holds the writer's prepared multi-row event inserts by rows per statement
	// (powers of two up to insertChunk): preparing one costs more than running it.
	inserts map[int]*sql.Stmt
	// counters reads what the last INSERT stored: changes() and last_insert_rowid().
	counters *sql.Stmt
}

func (b *sqliteBackend) read(ctx context.Context, fn func(q querier) error) error {
	return fn(sqlQuerier{q: b.r})
}

func (b *sqliteBackend) write(ctx context.Context, fn func(q querier) error) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(sqlQuerier{q: tx, tx: tx, b: b}); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	b.ck.committed()
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

func (b *sqliteBackend) close() error {
	for _, st := range b.inserts {
		st.Close()
	}
	if b.counters != nil {
		b.counters.Close()
	}
	return errors.Join(b.ck.close(), b.r.Close(), b.w.Close())
}

// insertChunk is the most rows one INSERT statement carries: 256 rows of 26 columns are
// 6,656 variables, under SQLite's limit of 32,766, and large enough that the per
// statement cost (database/sql, the driver, the VDBE's start) is spread thin.
const insertChunk = 256

// prepareInserts prepares the multi-row event inserts, once, on the writer connection
// while no transaction holds it (a write transaction then uses them through
// Tx.StmtContext, on the same connection).
func (b *sqliteBackend) prepareInserts(ctx context.Context) error {
	b.inserts = map[int]*sql.Stmt{}
	for n := insertChunk; n >= 1; n /= 2 {
		st, err := b.w.PrepareContext(ctx, multiRowInsert(n, "?"))
		if err != nil {
			return fmt.Errorf("store: prepare the insert of %d events: %w", n, err)
		}
		b.inserts[n] = st
	}
	st, err := b.w.PrepareContext(ctx, "SELECT changes(), last_insert_rowid()")
	if err != nil {
		return fmt.Errorf("store: prepare the insert's counters: %w", err)
	}
	b.counters = st
	return nil
}

// insertEvents inserts the rows in statements of insertChunk, then of the powers of two
// that make up the rest (so that a handful of prepared statements serve every batch
// size), and says which rows each stored.
func (s sqlQuerier) insertEvents(ctx context.Context, argLists [][]any) ([]bool, error) {
	inserted := make([]bool, 0, len(argLists))
	flat := make([]any, 0, min(len(argLists), insertChunk)*eventCols)
	for rest := argLists; len(rest) > 0; {
		n := insertChunk
		for n > len(rest) {
			n /= 2
		}
		chunk := rest[:n]
		rest = rest[n:]
		flat = flat[:0]
		for _, a := range chunk {
			flat = append(flat, a...)
		}
		// Query rather than Exec: the driver binds a query's arguments in one call into
		// the C library, an Exec's in one call each (26 per event). Its first step runs
		// the INSERT whole; then the connection's counters say what it stored.
		r, err := s.tx.StmtContext(ctx, s.b.inserts[n]).QueryContext(ctx, flat...)
		if err != nil {
			return nil, err
		}
		if err := errors.Join(r.Err(), r.Close()); err != nil {
			return nil, err
		}
		var changes, last int64
		if err := s.tx.StmtContext(ctx, s.b.counters).QueryRowContext(ctx).Scan(&changes, &last); err != nil {
			return nil, fmt.Errorf("read the insert's counters: %w", err)
		}
		ins, err := s.stored(ctx, changes, last, chunk)
		if err != nil {
			return nil, err
		}
		inserted = append(inserted, ins...)
	}
	return inserted, nil
}

// stored says which rows of chunk an insert stored. Nearly always all of them, which the
// count of rows it changed tells without reading anything back (RETURNING costs a result
// row per event). Otherwise (a file re-read after a restart, a key twice in one chunk)
// the stored rows are read back by id: the ids of one INSERT are consecutive, ending at
// the last one it gave (AUTOINCREMENT, one writer, no other statement between).
func (s sqlQuerier) stored(ctx context.Context, n, last int64, chunk [][]any) ([]bool, error) {
	out := make([]bool, len(chunk))
	if n == int64(len(chunk)) {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	if n == 0 { // rows without a key are always stored: all had one, all were held
		return out, nil
	}
	r, err := s.tx.QueryContext(ctx, "SELECT key FROM events WHERE id > ? AND id <= ?", last-n, last)
	if err != nil {
		return nil, fmt.Errorf("read back the stored keys: %w", err)
	}
	out, err = storedKeys(sqlRows{r}, chunk)
	if err != nil {
		return nil, fmt.Errorf("read back the stored keys: %w", err)
	}
	if got := countTrue(out); got != int(n) {
		return nil, fmt.Errorf("read back the stored keys: %d rows match, the insert stored %d", got, n)
	}
	return out, nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// usedBytes is the size of the pages in use: the file less its free pages (which SQLite
// reuses before the file grows).
func (b *sqliteBackend) usedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	for _, p := range []struct {
		pragma string
		dst    *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := b.r.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
			return 0, fmt.Errorf("store: PRAGMA %s: %w", p.pragma, err)
		}
	}
	return (pages - free) * size, nil
}

// compact returns free pages to the file system and truncates the write-ahead log, so
// that the file shrinks after retention (the operator sees the size on disk).
func (b *sqliteBackend) compact(ctx context.Context) error {
	if _, err := b.w.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
		return fmt.Errorf("store: incremental_vacuum: %w", err)
	}
	var busy, logPages, done int64
	if err := b.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done); err != nil {
		return fmt.Errorf("store: wal_checkpoint: %w", err)
	}
	return nil // busy=1 means readers held it back: the next round finishes the job
}

// sqlQuerier runs statements on a *sql.DB or a *sql.Tx.
type sqlQuerier struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	}
	// tx and b are set in a write transaction (insertEvents needs them).
	tx *sql.Tx
	b  *sqliteBackend
}

func (s sqlQuerier) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, numbered(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s sqlQuerier) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, numbered(q), args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s sqlQuerier) execMany(ctx context.Context, q string, argLists [][]any) ([]int64, error) {
	stmt, err := s.q.PrepareContext(ctx, numbered(q))
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	affected := make([]int64, 0, len(argLists))
	for _, args := range argLists {
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return affected, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return affected, err
		}
		affected = append(affected, k)
	}
	return affected, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// numbered rewrites the shared SQL's $N placeholders as ?N for SQLite. SQLite reads $N
// as a parameter named "$N" and numbers such names by their first appearance in the
// text, while the driver binds arguments by position: "SET host = $3 WHERE site = $1"
// would bind the first argument to $3. ?N is numbered N explicitly, whatever its place
// and however often it appears. Quoted text (string literals, quoted names) and
// comments are left as they are.
func numbered(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	b := []byte(q)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			// A doubled quote inside is an escaped one: skipping to each closing
			// quote in turn passes over it.
			j := strings.IndexByte(q[i+1:], end)
			if j < 0 {
				return string(b)
			}
			i += j + 1
		case c == '-' && i+1 < len(b) && b[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return string(b)
			}
			i += j
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return string(b)
			}
			i += j + 3
		case c == '$' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9':
			b[i] = '?'
		}
	}
	return string(b)
}

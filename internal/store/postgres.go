package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrateLockSQL takes the transaction-level advisory lock that serialises migrations of
// one PostgreSQL database across daemons. The key is "hsmwatch" read as a big-endian
// int64; it is released when the migration transaction ends, even if the daemon dies.
const migrateLockSQL = `SELECT pg_advisory_xact_lock(7526479761769784168)`

// idleCheck is how long a connection may sit idle before it is pinged on acquire: a
// server restart or a firewall may have closed it meanwhile, and finding out on the
// caller's statement would fail a write that could have gone through.
const idleCheck = 30 * time.Second

// openPostgres opens a store in a PostgreSQL database, possibly shared with the daemons
// of other sites.
func openPostgres(ctx context.Context, dsn string, opts Options) (Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's error does not repeat the password; ours names no part of the URL.
		return nil, fmt.Errorf("store: postgres URL: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hsmwatch"
	}
	// The URL may carry pgxpool's pool_* parameters (pool_max_conn_lifetime, ...);
	// Options.MaxConns is the bound on connections, whatever pool_max_conns says.
	b := &pgBackend{}
	b.pingAfter.Store(int64(idleCheck))
	cfg.MaxConns = int32(min(opts.MaxConns, math.MaxInt32))
	cfg.PingTimeout = 5 * time.Second
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration >= time.Duration(b.pingAfter.Load())
	}
	if b.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("store: postgres pool: %w", err)
	}
	d := dialect{name: "postgres", like: "ILIKE", fieldsCol: "fields::text", listSite: "site", greatest: "GREATEST", cleanText: pgText}
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		err := migrate(ctx, b, d, migrateLockSQL, opts)
		if err == nil {
			break
		}
		if !opts.ConnectRetry || !unreachable(err) || ctx.Err() != nil {
			b.close()
			return nil, err
		}
		opts.Logger.Warn("store: PostgreSQL unreachable; trying again", "host", cfg.ConnConfig.Host,
			"database", cfg.ConnConfig.Database, "retry_in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			b.close()
			return nil, fmt.Errorf("store: postgres: gave up waiting for the server: %w", errors.Join(err, ctx.Err()))
		case <-t.C:
		}
	}
	opts.Logger.Debug("store: opened", "dialect", "postgres", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database, "site", opts.Site)
	s := &sqlStore{site: opts.Site, db: b, d: d, opts: opts, now: time.Now}
	s.usedBytes = s.siteBytes
	return s, nil
}

// siteBytes is the size of this site's rows (pg_column_size of each event and sample
// row; indexes and dead rows not counted): a database shared by sites is bounded per
// site, each by its own max_size_mb. It reads every row of the site, once per
// retention round (every ten minutes in the daemon).
func (s *sqlStore) siteBytes(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.read(ctx, func(q querier) error {
		return eachRow(ctx, q, `SELECT
			(SELECT COALESCE(SUM(pg_column_size(e.*)), 0) FROM events e WHERE e.site = $1) +
			(SELECT COALESCE(SUM(pg_column_size(m.*)), 0) FROM samples m WHERE m.site = $1)`,
			args{s.site}, func(r rows) error { return r.Scan(&n) })
	})
	if err != nil {
		return 0, fmt.Errorf("site size: %w", err)
	}
	return n, nil
}

// pgBackend runs the store's statements on a pgx pool. The pool bounds the connections
// (Options.MaxConns), reuses them, pings one that sat idle for pingAfter before handing
// it out, and closes one given back broken or inside a transaction.
type pgBackend struct {
	pool *pgxpool.Pool
	// pingAfter is how long a connection may sit idle before acquire pings it, as a
	// time.Duration (idleCheck; tests change it).
	pingAfter atomic.Int64
}

func (b *pgBackend) read(ctx context.Context, fn func(q querier) error) error {
	c, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Release()
	return fn(pgQuerier{c})
}

func (b *pgBackend) write(ctx context.Context, fn func(q querier) error) error {
	var (
		c   *pgxpool.Conn
		tx  pgx.Tx
		err error
	)
	for attempt := 0; ; attempt++ {
		if c, err = b.pool.Acquire(ctx); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		if tx, err = c.Begin(ctx); err == nil {
			break
		}
		broken := c.Conn().IsClosed()
		c.Release()
		if !broken || attempt > 0 || ctx.Err() != nil {
			return fmt.Errorf("begin: %w", err)
		}
		// The server dropped this idle connection (a restart) before we sent anything
		// that matters: take another once, rather than fail a batch that can go through.
	}
	defer c.Release()
	if err := fn(pgQuerier{tx}); err != nil {
		// A fresh context: the caller's may be what ended, and an open transaction
		// would keep its locks until the connection is closed.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if rerr := tx.Rollback(rctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (b *pgBackend) close() error {
	b.pool.Close()
	return nil
}

// pgQuerier runs statements on a connection or a transaction.
type pgQuerier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
		CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
	}
}

func (p pgQuerier) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p pgQuerier) query(ctx context.Context, sql string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// execMany queues every statement in one batch: one round trip for the whole list.
func (p pgQuerier) execMany(ctx context.Context, sql string, argLists [][]any) ([]int64, error) {
	if len(argLists) == 0 {
		return nil, nil
	}
	var batch pgx.Batch
	for _, args := range argLists {
		batch.Queue(sql, args...)
	}
	br := p.q.SendBatch(ctx, &batch)
	affected := make([]int64, 0, len(argLists))
	for range argLists {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return affected, err
		}
		affected = append(affected, tag.RowsAffected())
	}
	return affected, br.Close()
}

// unreachable reports whether err is a failure to reach the server at all (refused,
// no route, a timeout), not an answer from it (a wrong password, a missing database).
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return false
	}
	var pe *pgconn.PgError
	return !errors.As(err, &pe)
}

// pgInsertEventsSQL stores a batch in one statement: each column is sent as one array
// (binary, one round trip), unnest turns them back into rows, in order, so that ids
// follow the batch. The keys of the rows stored come back (storedKeys).
var pgInsertEventsSQL = func() string {
	var params, cols []string
	for i, c := range eventColumns {
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, c.pgType))
		switch c.name {
		case "fields":
			cols = append(cols, "fields::json")
		case "level_rank":
			cols = append(cols, "level_rank::smallint")
		default:
			cols = append(cols, c.name)
		}
	}
	return "INSERT INTO events (" + eventColumnList() + ") SELECT " + strings.Join(cols, ", ") +
		" FROM unnest(" + strings.Join(params, ", ") + ") AS t(" + eventColumnList() + ")" +
		" ON CONFLICT DO NOTHING RETURNING key"
}()

// insertEvents stores the batch with COPY, which costs the server about a fifth less per
// row than an INSERT of unnested arrays and the client about a third less (bench/README.md),
// but has no ON CONFLICT: a batch holding a key already stored (a source re-read after a
// restart) or twice fails with a unique violation, rolls back to the savepoint taken before
// it and goes through insertUnnest, which skips those keys. That is rare: a batch of the
// first seconds after a restart.
func (p pgQuerier) insertEvents(ctx context.Context, argLists [][]any) ([]bool, error) {
	if len(argLists) == 0 {
		return nil, nil
	}
	if _, err := p.q.Exec(ctx, "SAVEPOINT copy_events"); err != nil {
		return nil, err
	}
	_, err := p.q.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumnNames, pgx.CopyFromRows(argLists))
	if err == nil {
		stored := make([]bool, len(argLists))
		for i := range stored {
			stored[i] = true
		}
		return stored, nil
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != uniqueViolation {
		return nil, err
	}
	if _, err := p.q.Exec(ctx, "ROLLBACK TO SAVEPOINT copy_events"); err != nil {
		return nil, err
	}
	return p.insertUnnest(ctx, argLists)
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// insertUnnest sends the batch as column arrays ([]string, []int64, []bool), a column as
// []*T only when one of the batch's values is NULL (nil). pgx encodes a slice of values
// without reflection and a slice of pointers through it, which was a fifth of the
// client's CPU per event when every text column went as []*string.
func (p pgQuerier) insertUnnest(ctx context.Context, argLists [][]any) ([]bool, error) {
	cols := make([]any, eventCols)
	for j, c := range eventColumns {
		switch c.pgType {
		case "text":
			cols[j] = column[string](argLists, j)
		case "int8":
			cols[j] = column[int64](argLists, j)
		case "bool":
			cols[j] = column[bool](argLists, j)
		}
	}
	r, err := p.q.Query(ctx, pgInsertEventsSQL, cols...)
	if err != nil {
		return nil, err
	}
	return storedKeys(r, argLists)
}

// column returns column j of the rows as []T, or as []*T (nil for NULL) when a value is
// not a T (nil: NULL).
func column[T any](argLists [][]any, j int) any {
	a := make([]T, len(argLists))
	for i, row := range argLists {
		v, ok := row[j].(T)
		if !ok {
			return nullable[T](argLists, j)
		}
		a[i] = v
	}
	return a
}

func nullable[T any](argLists [][]any, j int) []*T {
	a := make([]*T, len(argLists))
	for i, row := range argLists {
		if v, ok := row[j].(T); ok {
			a[i] = &v
		}
	}
	return a
}

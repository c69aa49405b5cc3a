package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are numbered SQL files, one folder per dialect (migrations/sqlite/001_init.sql,
// migrations/postgres/001_init.sql, ...), embedded in the binary. Each folder holds the same
// versions with the same meaning. A database records what it has applied in
// schema_migrations; Open applies the missing versions, all in one transaction, so that a
// failed migration leaves the schema as it was.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of one dialect in version order; versions must
// run 1, 2, 3... without a gap, so that a missing file is an error rather than a skip.
func loadMigrations(dialectName string) ([]migration, error) {
	dir := path.Join("migrations", dialectName)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", dialectName, err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s/%s: the name must start with a version number and '_'", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s: version %d found where %d was expected", dialectName, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date. lockSQL, when set, runs first in the transaction
// and serialises concurrent migrations across processes: PostgreSQL's transaction-level
// advisory lock, released at commit, makes a second daemon starting at the same moment
// wait and then find the work done. (SQLite needs none: its write transactions begin
// IMMEDIATE, which already excludes every other writer of the file.)
func migrate(ctx context.Context, b backend, d dialect, lockSQL string, opts Options) error {
	return migrateTo(ctx, b, d, lockSQL, opts, 0)
}

// migrateTo is migrate stopping after version upTo (0: the newest); the upgrade tests
// build a database of an older schema with it.
func migrateTo(ctx context.Context, b backend, d dialect, lockSQL string, opts Options, upTo int) error {
	ms, err := loadMigrations(d.name)
	if err != nil {
		return err
	}
	if upTo > 0 && upTo < len(ms) {
		ms = ms[:upTo]
	}
	var applied []string
	err = b.write(ctx, func(q querier) error {
		if lockSQL != "" {
			if _, err := q.exec(ctx, lockSQL); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at BIGINT  NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		have := map[int]bool{}
		r, err := q.query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		newest := 0
		for r.Next() {
			var v int64
			if err := r.Scan(&v); err != nil {
				r.Close()
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			have[int(v)] = true
			newest = max(newest, int(v))
		}
		r.Close()
		if err := r.Err(); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if newest > len(ms) {
			// A newer hsmwatch migrated this database (another site's daemon sharing it):
			// writing with an older idea of the schema could corrupt it.
			return fmt.Errorf("the database has schema version %d, newer than this hsmwatch knows (%d): upgrade hsmwatch", newest, len(ms))
		}
		for _, m := range ms {
			if have[m.version] {
				continue
			}
			if _, err := q.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := q.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				int64(m.version), m.name, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("record %s: %w", m.name, err)
			}
			applied = append(applied, m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", d.name, err)
	}
	if len(applied) > 0 {
		opts.Logger.Info("store: schema migrated", "dialect", d.name, "applied", applied)
	}
	return nil
}

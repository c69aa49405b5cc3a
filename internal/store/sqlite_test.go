package store

import (
	"context"
	"testing"
	"time"
)

// TestSQLitePragmas: the writer and the readers run with the settings the store counts
// on, whichever way the driver is told them.
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+t.TempDir()+"/", Options{Logger: testLogger(t), BusyTimeout: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := st.(*sqlStore).db.(*sqliteBackend)
	for _, c := range []struct {
		pool, pragma, want string
	}{
		{"w", "journal_mode", "wal"},
		{"w", "synchronous", "2"}, // FULL
		{"w", "auto_vacuum", "2"}, // INCREMENTAL
		{"w", "temp_store", "2"},  // MEMORY
		{"w", "busy_timeout", "7000"},
		{"w", "query_only", "0"},
		{"r", "journal_mode", "wal"},
		{"r", "busy_timeout", "7000"},
		{"r", "query_only", "1"},
	} {
		db := b.w
		if c.pool == "r" {
			db = b.r
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", c.pool, c.pragma, err)
		}
		if got != c.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", c.pool, c.pragma, got, c.want)
		}
	}
	if _, err := b.r.ExecContext(ctx, "DELETE FROM events"); err == nil {
		t.Error("a reader wrote")
	}
}

func TestNumbered(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1": "SELECT 1",
		"UPDATE t SET a = $3 WHERE b = $1 AND c = $2": "UPDATE t SET a = ?3 WHERE b = ?1 AND c = ?2",
		"SELECT '$1', \"$2\", $2 -- $3\n, $1":         "SELECT '$1', \"$2\", ?2 -- $3\n, ?1",
		"SELECT 'it''s $1', $10 /* $2 */, $2":         "SELECT 'it''s $1', ?10 /* $2 */, ?2",
		"SELECT json_extract(x, '$.a'), $1":           "SELECT json_extract(x, '$.a'), ?1",
	} {
		if got := numbered(in); got != want {
			t.Errorf("numbered(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNumberedBinds: a statement whose placeholders appear out of order, or repeat,
// binds each argument to its number.
func TestNumberedBinds(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+t.TempDir()+"/", Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := st.(*sqlStore).db.(*sqliteBackend)
	err = b.read(ctx, func(q querier) error {
		r, err := q.query(ctx, "SELECT $3, $1, $2, $1", "a", "b", "c")
		if err != nil {
			return err
		}
		defer r.Close()
		if !r.Next() {
			t.Fatal("no row")
		}
		var x, y, z, w string
		if err := r.Scan(&x, &y, &z, &w); err != nil {
			return err
		}
		if x+y+z+w != "caba" {
			t.Errorf("got %s %s %s %s, want c a b a", x, y, z, w)
		}
		return r.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

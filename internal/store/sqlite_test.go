package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
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
		{"w", "wal_autocheckpoint", "16384"}, // checkpoint.go: the background checkpointer's bound
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

// TestSQLiteCheckpointsInBackground: with the writer's own checkpoints pushed back to
// walBound pages, the background checkpointer copies the committed log into the database
// file while the writer goes on, and the writer then starts the log over: a second burst
// as large as the first does not grow it.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ck := st.(*sqlStore).db.(*sqliteBackend).ck
	raw := strings.Repeat("x", 1000)
	const batches, per = 20, 500 // about 10 MB of rows: thousands of pages
	burst := func(round int) {
		for n := range batches {
			recs := make([]component.Record, per)
			for i := range recs {
				recs[i] = component.Record{Key: fmt.Sprintf("k%d-%d-%d", round, n, i),
					Event: &event.Event{Time: base, Host: "h", Message: "m", Raw: raw}}
			}
			if _, err := st.Write(ctx, recs); err != nil {
				t.Fatal(err)
			}
		}
	}
	size := func(name string) int64 {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	burst(1)
	// The log's frames (internal/store/checkpoint.go counts in frames: a 32-byte header,
	// then a 24-byte header and a page each).
	first := size(sqliteFile + "-wal")
	frames := (first - 32) / (24 + 4096)
	deadline := time.Now().Add(20 * time.Second)
	for ck.copied.Load() != frames {
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoint copied the whole log (%d frames) within 20 s; the last whole one had %d",
				frames, ck.copied.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if db, written := size(sqliteFile), int64(batches*per*len(raw)); db < written {
		t.Errorf("the database file holds %d bytes after the checkpoint, %d were written", db, written)
	}
	burst(2)
	if wal := size(sqliteFile + "-wal"); wal > first+first/5 {
		t.Errorf("the log grew from %d to %d bytes in a second burst: it was not started over", first, wal)
	}
}

// TestSQLiteCloseTwice: a store closed twice (a fixture's cleanup after the test's own
// Close) closes once and says nothing the second time.
func TestSQLiteCloseTwice(t *testing.T) {
	st, err := Open(context.Background(), t.TempDir(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

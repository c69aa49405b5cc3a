package store

import (
	"context"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestPostgresReconnect: connections the server dropped (a restart, an administrator's
// pg_terminate_backend) do not fail the next write (a dead connection found at BEGIN is
// replaced once) nor, once idle long enough to be pinged, the next read.
func TestPostgresReconnect(t *testing.T) {
	dsn := pgtest.Start(t)
	st := openStore(t, dsn, "lab")
	ctx := context.Background()
	b := st.db.(*pgBackend)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	terminate := func() {
		t.Helper()
		var killed int
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'hsmwatch'`).Scan(&killed); err != nil {
			t.Fatal(err)
		}
		if killed == 0 {
			t.Fatal("no store connection to terminate: the test proves nothing")
		}
	}

	b.pingAfter.Store(int64(time.Hour)) // no ping: the write finds the dead connection itself
	writeKeyed(t, st, "a")
	terminate()
	writeKeyed(t, st, "b")

	b.pingAfter.Store(0) // ping on every acquire, as after idleCheck
	terminate()
	if n := len(all(t, st, EventFilter{})); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}

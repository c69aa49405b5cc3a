package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestServer starts a server with a setting of the caller's over one of the package's,
// creates two databases and checks that each is its own and that the setting holds, then
// that Stop removes everything.
func TestServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := Launch(ctx, "shared_buffers=24MB")
	Check(t, err)
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop()
		}
	}()
	a, b := srv.NewDatabase(t), srv.NewDatabase(t)
	if a == b {
		t.Fatalf("two databases with one URL: %s", a)
	}
	for _, dsn := range []string{a, b} {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect %s: %v", dsn, err)
		}
		var name string
		if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		var buffers string
		if err := c.QueryRow(ctx, "SHOW shared_buffers").Scan(&buffers); err != nil || buffers != "24MB" {
			t.Errorf("shared_buffers %q (err %v), want the caller's 24MB over the package's 16MB", buffers, err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE only_here (x int)"); err != nil {
			t.Fatalf("%s: %v", name, err) // fails in b if a and b were one database
		}
		c.Close(ctx)
	}
	stopped = true
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
		t.Errorf("server folder still there after Stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, a); err == nil {
		t.Error("connected after Stop")
	}
}

package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestPostgresUnreachableRetried: with ConnectRetry, Open does not fail on a server it
// cannot reach: it logs and tries again until ctx ends, then says it gave up.
func TestPostgresUnreachableRetried(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := "postgres://nobody@/x?host=" + filepath.Join(t.TempDir(), "no-such-socket") + "&connect_timeout=2"
	done := make(chan error, 1)
	go func() {
		st, err := Open(ctx, dsn, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), ConnectRetry: true})
		if st != nil {
			st.Close()
		}
		done <- err
	}()
	testutil.WaitFor(t, "two attempts logged", 20*time.Second, func() bool {
		return strings.Count(logs.String(), "PostgreSQL unreachable") >= 2
	})
	select {
	case err := <-done:
		t.Fatalf("Open returned while retrying: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "gave up") {
			t.Errorf("after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Open did not return after ctx ended")
	}
}

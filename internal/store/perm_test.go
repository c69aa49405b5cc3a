package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteOwnerOnly: the store's folder is created 0700, its file and the WAL 0600,
// and a file others could read is tightened when it is opened.
func TestSQLiteOwnerOnly(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	st, err := Open(ctx, dir+"/", Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, sqliteFile)
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Errorf("folder %v, want 0700", m)
	}
	if m := mode(file); m != 0o600 {
		t.Errorf("database %v, want 0600", m)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Open(ctx, file, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if m := mode(file); m != 0o600 {
		t.Errorf("database reopened: %v, want 0600", m)
	}
	if fi, err := os.Stat(file + "-wal"); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("WAL %v, want no permission for others", fi.Mode().Perm())
	}
}

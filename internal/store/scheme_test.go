package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An unknown scheme is an error, never a SQLite file named after it.
func TestOpenRefusesUnknownScheme(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := Open(t.Context(), "mysql://x", Options{})
	if err == nil || !strings.Contains(err.Error(), "unknown scheme mysql://") {
		t.Fatalf("mysql://x: %v", err)
	}
	if _, err := os.Stat(filepath.Join("mysql:", "x")); !os.IsNotExist(err) {
		t.Fatalf("a file was made: %v", err)
	}
}

package parse

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedPath returns the path of a file under the project's shared/ folder (the
// specification and the labelled corpus), which lives beside the checkout: ../shared from
// the repository root. Tests that need it fail, naming the path, when it is missing.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p = filepath.Join(filepath.Dir(d), "shared", rel)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("the shared corpus is missing: %v (clone the project with shared/ beside it)", err)
			}
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

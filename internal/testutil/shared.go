// Package testutil holds helpers for tests: finding the project's shared/ folder (the
// specification and the labelled corpus) and reading its JSON lines.
package testutil

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// SharedPath returns the path of a file under shared/, which lives beside the checkout
// (../shared from the repository root). Tests fail, naming the path, when it is missing.
func SharedPath(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", rel)
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

// ReadJSONL decodes every line of a shared/ JSON-lines file.
func ReadJSONL[T any](t testing.TB, rel string) []T {
	t.Helper()
	f, err := os.Open(SharedPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", rel, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

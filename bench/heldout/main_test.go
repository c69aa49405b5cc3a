package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// TestRunSeparateAndTogether runs the report on two small sets made of the catalog's own
// examples (so the levels given are known): each set is reported on its own, then both
// together with the counts added.
func TestRunSeparateAndTogether(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	// One example of a major rule and one of an info rule, each labelled with its rule's
	// level, per file.
	var major, info []string
	for _, r := range cat.Rules() {
		if len(r.Examples) == 0 || strings.ContainsAny(r.Examples[0].Line, "\t\n") {
			continue
		}
		switch r.Level {
		case "major":
			major = append(major, r.Examples[0].Line)
		case "info":
			info = append(info, r.Examples[0].Line)
		}
	}
	if len(major) < 2 || len(info) < 2 {
		t.Fatalf("catalog has %d major and %d info examples, want 2 each", len(major), len(info))
	}
	dir := t.TempDir()
	var files []string
	for i := 0; i < 2; i++ {
		body := "major\tcatalog\t" + major[i] + "\ninfo\tcatalog\t" + info[i] + "\n"
		f := filepath.Join(dir, "set"+string(rune('a'+i))+".tsv")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var out strings.Builder
	if err := run(&out, files, nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, f := range files {
		if !strings.Contains(got, "held-out lines: 2 ("+f+")") {
			t.Errorf("no section for %s:\n%s", f, got)
		}
	}
	i := strings.Index(got, "all 2 sets together")
	if i < 0 {
		t.Fatalf("no figures for both sets together:\n%s", got)
	}
	together := got[i:]
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`serious raised to warning or above\s+2/2\s+100\.0 %`),
		regexp.MustCompile(`serious raised to major or above\s+2/2\s+100\.0 %`),
		regexp.MustCompile(`routine raised to warning or above\s+0/2\s+0\.0 %`),
	} {
		if !want.MatchString(together) {
			t.Errorf("together: no match for %s in:\n%s", want, together)
		}
	}
}

// TestRunBadFile names the file that cannot be read.
func TestRunBadFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.tsv")
	err := run(&strings.Builder{}, []string{missing}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing.tsv") {
		t.Fatalf("got %v, want an error naming missing.tsv", err)
	}
}

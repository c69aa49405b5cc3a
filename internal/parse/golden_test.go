package parse

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files from the parsers' output")

// goldenOptions fixes what a line alone cannot tell, so golden files do not depend on the
// machine's zone or the day the test runs.
func goldenOptions() Options {
	return Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 5, 31, 0, 0, time.UTC)}
}

// TestGolden parses every testdata/golden/FORMAT.NAME.log with the parser FORMAT names
// ("auto" for mixed files) and compares one JSON object per input line with FORMAT.NAME.jsonl.
// Review a diff of the .jsonl after -update as carefully as code: it is the expected output.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.log"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), ".log")
		format, _, _ := strings.Cut(base, ".")
		t.Run(base, func(t *testing.T) {
			p, err := New(format, goldenOptions())
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			got := parseFile(t, p, in)
			want := strings.TrimSuffix(in, ".log") + ".jsonl"
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			compareLines(t, want, exp, got)
		})
	}
}

func parseFile(t *testing.T, p Parser, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var ev event.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		Into(p, sc.Text(), &ev)
		out = ev.AppendJSON(out)
		out = append(out, '\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func compareLines(t *testing.T, name string, want, got []byte) {
	t.Helper()
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	if len(w) != len(g) {
		t.Errorf("%s: %d lines expected, %d produced", name, len(w), len(g))
	}
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] != g[i] {
			t.Errorf("%s:%d:\nwant %s\ngot  %s", name, i+1, w[i], g[i])
		}
	}
}

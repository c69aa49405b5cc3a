package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// TestPatternDB: the catalog converts into well-formed patterndb XML with one rule per
// process a literal rule names (rules naming none in every ruleset), each pattern the
// rule's literal, its "@" doubled.
func TestPatternDB(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "patterndb.xml")
	n, err := writePatternDB(path, cat)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var db struct {
		Rulesets []struct {
			Name  string `xml:"name,attr"`
			Rules []struct {
				Class   string `xml:"class,attr"`
				Pattern string `xml:"patterns>pattern"`
			} `xml:"rules>rule"`
		} `xml:"ruleset"`
	}
	if err := xml.Unmarshal(b, &db); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	procs, unscoped := map[string]int{}, 0
	for _, r := range cat.Rules() {
		if literal(r) == "" {
			continue
		}
		if len(r.Match.Process) == 0 {
			unscoped++
		}
		for _, p := range r.Match.Process {
			procs[p]++
		}
	}
	if len(db.Rulesets) != len(procs) {
		t.Fatalf("%d rulesets, want one per process: %d", len(db.Rulesets), len(procs))
	}
	total := 0
	for _, rs := range db.Rulesets {
		if want := procs[rs.Name] + unscoped; len(rs.Rules) != want {
			t.Errorf("ruleset %s: %d rules, want %d", rs.Name, len(rs.Rules), want)
		}
		for _, r := range rs.Rules {
			rule, ok := cat.Rule(r.Class)
			if !ok {
				t.Fatalf("ruleset %s: rule of unknown class %q", rs.Name, r.Class)
			}
			want := "@ESTRING::" + strings.ReplaceAll(literal(rule), "@", "@@") + "@@ANYSTRING::@"
			if r.Pattern != want {
				t.Errorf("%s: pattern %q, want %q", r.Class, r.Pattern, want)
			}
		}
		total += len(rs.Rules)
	}
	if total != n || n == 0 {
		t.Errorf("%d rules read back, %d written", total, n)
	}
}

func TestLiteralOfRegex(t *testing.T) {
	for re, want := range map[string]string{
		`^Fan sensor (\S+) going low`: "Fan sensor ", // the longest run
		`ALM(\d+): HSM zeroized`:      ": HSM zeroized",
		`a.b`:                         "",
	} {
		r := &classify.Rule{Match: classify.Match{Regex: re}}
		if got := literal(r); got != want {
			t.Errorf("literal of %q = %q, want %q", re, got, want)
		}
	}
}

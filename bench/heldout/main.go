// Command heldout measures the classifier on the held-out lines (issue 13, point 5): real
// log lines from public sources that no rule was written from, each labelled with the
// level an operator would give it.
//
//	go run ./bench/heldout [-file testdata/heldout/lines.tsv ...] [-rules dir-or-file ...]
//
// Without -file it measures every held-out set (testdata/heldout/lines.tsv, lines2.tsv
// and lines3.tsv), each on its own and then all together. Every line is parsed and
// classified the way "hsmwatch scan" does it (scan.Run, format auto, the shipped catalog plus any
// -rules). For each set it prints a table of labelled level against the level given, the
// three figures with their targets, and the misses: serious lines (labelled critical or
// major) not raised to warning, serious lines not raised to major, and routine lines
// (labelled info or debug) raised to warning or above.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/heldout"
)

type rulesFlag []string

func (r *rulesFlag) String() string     { return strings.Join(*r, ",") }
func (r *rulesFlag) Set(s string) error { *r = append(*r, s); return nil }

func main() {
	var files, rules rulesFlag
	flag.Var(&files, "file", "a held-out file (repeatable; default: every set of testdata/heldout)")
	flag.Var(&rules, "rules", "operator rule file or folder applied on top of the shipped catalog (repeatable)")
	flag.Parse()
	if len(files) == 0 {
		files = heldout.Files()
	}
	if err := run(os.Stdout, files, rules); err != nil {
		fmt.Fprintln(os.Stderr, "bench/heldout:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, files, rules []string) error {
	cat, err := classify.Load(rules...)
	if err != nil {
		return err
	}
	var all heldout.Figures
	for i, file := range files {
		lines, err := heldout.Load(file)
		if err != nil {
			return err
		}
		res, err := heldout.Classify(context.Background(), lines, cat)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if i > 0 {
			fmt.Fprintf(w, "\n%s\n\n", strings.Repeat("=", 90))
		}
		fmt.Fprintf(w, "held-out lines: %d (%s), catalog: %d rules\n\n", len(lines), file, len(cat.Rules()))
		table(w, res)
		f := heldout.Measure(res)
		fmt.Fprintln(w)
		figures(w, f)
		misses(w, "serious lines not raised to warning", res, func(r heldout.Result) bool { return r.Serious() && !r.Raised() })
		misses(w, "serious lines raised to warning or minor only", res, func(r heldout.Result) bool { return r.Serious() && r.Raised() && !r.Major() })
		misses(w, "routine lines raised to warning or above", res, func(r heldout.Result) bool { return r.Routine() && r.Raised() })
		all = all.Add(f)
	}
	if len(files) > 1 {
		fmt.Fprintf(w, "\n%s\n\nall %d sets together (%s):\n\n", strings.Repeat("=", 90), len(files), strings.Join(files, ", "))
		figures(w, all)
	}
	return nil
}

// figures prints the three figures of f with their targets.
func figures(w io.Writer, f heldout.Figures) {
	fmt.Fprintf(w, "%-40s %4d/%-4d %6.1f %%   target >= %.0f %%  %s\n", "serious raised to warning or above",
		f.SeriousWarn, f.Serious, 100*f.SeriousWarnShare(), 100*heldout.SeriousWarnTarget, verdict(f.SeriousWarnShare() >= heldout.SeriousWarnTarget))
	fmt.Fprintf(w, "%-40s %4d/%-4d %6.1f %%   target >= %.0f %%  %s\n", "serious raised to major or above",
		f.SeriousMajor, f.Serious, 100*f.SeriousMajorShare(), 100*heldout.SeriousMajorTarget, verdict(f.SeriousMajorShare() >= heldout.SeriousMajorTarget))
	fmt.Fprintf(w, "%-40s %4d/%-4d %6.1f %%   target <= %.0f %%   %s\n", "routine raised to warning or above",
		f.RoutineRaised, f.Routine, 100*f.RoutineRaisedShare(), 100*heldout.RoutineRaisedMax, verdict(f.RoutineRaisedShare() <= heldout.RoutineRaisedMax))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// table prints labelled level (rows) against the level given (columns).
func table(w io.Writer, res []heldout.Result) {
	cols := append(append([]string{}, heldout.Levels...), "none")
	count := map[[2]string]int{}
	rows := map[string]int{}
	for _, r := range res {
		got := r.Level
		if got == "" {
			got = "none"
		}
		count[[2]string{r.Label, got}]++
		rows[r.Label]++
	}
	fmt.Fprintf(w, "%-10s", "label \\ given")
	for _, c := range cols {
		fmt.Fprintf(w, "%9s", c)
	}
	fmt.Fprintf(w, "%9s\n", "total")
	for _, l := range heldout.Levels {
		fmt.Fprintf(w, "%-13s", l)
		for _, c := range cols {
			fmt.Fprintf(w, "%9d", count[[2]string{l, c}])
		}
		fmt.Fprintf(w, "%9d\n", rows[l])
	}
	fmt.Fprintln(w, "(none: no rule matched, or the line did not parse)")
}

func misses(w io.Writer, title string, res []heldout.Result, pick func(heldout.Result) bool) {
	var picked []heldout.Result
	for _, r := range res {
		if pick(r) {
			picked = append(picked, r)
		}
	}
	fmt.Fprintf(w, "\n%s: %d\n", title, len(picked))
	for _, r := range picked {
		given := r.Level
		if given == "" {
			given = "none"
		}
		how := r.EvSource
		if r.Rule != "" {
			how += " " + r.Rule
		}
		fmt.Fprintf(w, "  line %d  %s -> %s  [%s]\n    %s\n", r.N, r.Label, given, how, r.Text)
	}
}

package check

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseRange: ParseRange never panics; an accepted range has start <= end, is not
// minus to plus infinity, and its canonical form parses back to the same range and says the
// same about every value; perfdata built with it validates.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10", "10:", "~:10", "10:20", "@10:20", "@~:0", ":10", "1e3", "-5:-1",
		"0.5:1.5", "~10", "", "@", "10:20:30", "1e999", "20:10", " 7 "} {
		f.Add(s, 5.0)
	}
	f.Fuzz(func(t *testing.T, s string, v float64) {
		r, err := ParseRange(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "range ") {
				t.Fatalf("error %q does not name the range", err)
			}
			return
		}
		if math.IsNaN(r.Start) || math.IsNaN(r.End) || r.Start > r.End || math.IsInf(r.Start, 1) || math.IsInf(r.End, -1) {
			t.Fatalf("%q: bad range %+v", s, r)
		}
		if math.IsInf(r.Start, -1) && math.IsInf(r.End, 1) {
			t.Fatalf("%q: a range that never alerts was accepted", s)
		}
		back, err := ParseRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q: String %q parses back to %+v, %v", s, r.String(), back, err)
		}
		if r.Alert(v) != back.Alert(v) {
			t.Fatalf("%q and %q disagree on %v", s, r.String(), v)
		}
		if r.Alert(v) == (Range{Start: r.Start, End: r.End, Inside: !r.Inside}).Alert(v) && !math.IsNaN(v) {
			t.Fatalf("%q: @ must invert the answer for %v", s, v)
		}
		p := Perfdata{Label: "x", Value: 1, Warn: &r, Crit: &r}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(p.String(), " |\n") {
			t.Fatalf("perfdata %q holds a separator", p.String())
		}
	})
}

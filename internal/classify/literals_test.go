package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveFind is what the automaton must report: every rule whose anchor occurs in s.
func naiveFind(anchors []string, rules []int32, s string) []int32 {
	var out []int32
	for k, a := range anchors {
		if strings.Contains(s, a) {
			out = append(out, rules[k])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func scanFind(ix *literalIndex, s string) []int32 {
	var out []int32
	ix.scan(s, func(r int32) { out = append(out, r) })
	slices.Sort(out)
	return slices.Compact(out)
}

// TestLiteralIndexFindsEveryAnchor checks the automaton, with its skip over positions
// where no anchor begins, against strings.Contains: random anchors and messages over a
// small alphabet (so that anchors overlap, nest and share beginnings), with and without a
// one-byte anchor (which turns the skip off).
func TestLiteralIndexFindsEveryAnchor(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	word := func(min, max int) string {
		b := make([]byte, min+rnd.IntN(max-min+1))
		for i := range b {
			b[i] = "abcab xyé"[rnd.IntN(10)]
		}
		return string(b)
	}
	for round := range 300 {
		var anchors []string
		var rules []int32
		for k := range 1 + rnd.IntN(30) {
			anchors = append(anchors, word(2, 6))
			rules = append(rules, int32(k))
		}
		if round%5 == 0 {
			anchors = append(anchors, word(1, 1))
			rules = append(rules, int32(len(rules)))
		}
		ix := newLiteralIndex(anchors, rules)
		if (ix.pairs == nil) != (round%5 == 0) {
			t.Fatalf("round %d: skip table %v with anchors %q", round, ix.pairs != nil, anchors)
		}
		for range 50 {
			s := word(0, 80)
			if got, want := scanFind(ix, s), naiveFind(anchors, rules, s); !slices.Equal(got, want) {
				t.Fatalf("anchors %q in %q: found %v, want %v", anchors, s, got, want)
			}
		}
	}
}

// FuzzLiteralIndexMany: any anchors and message, the same rules as strings.Contains.
func FuzzLiteralIndexMany(f *testing.F) {
	f.Add("error\x00fail\x00ab", "an error occurred, abort")
	f.Add("aa\x00aaa\x00ba", "aaaabaaa")
	f.Fuzz(func(t *testing.T, lits, s string) {
		var anchors []string
		var rules []int32
		for _, a := range strings.Split(lits, "\x00") {
			if a != "" {
				anchors = append(anchors, a)
				rules = append(rules, int32(len(rules)))
			}
		}
		if len(anchors) == 0 {
			return
		}
		ix := newLiteralIndex(anchors, rules)
		if got, want := scanFind(ix, s), naiveFind(anchors, rules, s); !slices.Equal(got, want) {
			t.Fatalf("anchors %q in %q: found %v, want %v", anchors, s, got, want)
		}
	})
}

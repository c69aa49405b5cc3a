package agent

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gosnmp/gosnmp"
)

func intVar(oid string, n int) Var {
	return Var{Name: oid, Type: gosnmp.Integer, Value: n}
}

// walk returns every name in the tree by repeated Next, failing on a loop.
func walk(t *testing.T, tr Tree) []string {
	t.Helper()
	var out []string
	cur := ""
	for range 1 << 20 {
		v, ok := tr.Next(cur)
		if !ok {
			return out
		}
		if cur != "" && compareOIDs(v.Name, cur) <= 0 {
			t.Fatalf("Next(%s) = %s, not after it", cur, v.Name)
		}
		out = append(out, v.Name)
		cur = v.Name
	}
	t.Fatal("walk does not end")
	return nil
}

// compareOIDs is the reference order: numeric, arc by arc, a prefix first.
func compareOIDs(a, b string) int {
	pa := strings.Split(strings.TrimPrefix(a, "."), ".")
	pb := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.ParseUint(pa[i], 10, 32)
		y, _ := strconv.ParseUint(pb[i], 10, 32)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(pa) - len(pb)
}

func TestMapTreeNumericOrder(t *testing.T) {
	tr := NewMapTree()
	names := []string{
		".1.3.6.1.2.1.10", ".1.3.6.1.2.1.2", ".1.3.6.1.2.1.2.1.0", ".1.3.6.1.2.1.1.9.1.2.10",
		".1.3.6.1.2.1.1.9.1.2.9", ".1.3.6.1.4.1.4294967295", ".1.3.6.1.4.1.128", ".1.3.6.1.4.1.127",
		".1.3.6.1.4.1.16384", ".1.3.6.1.4.1.16383", ".1.3.6.1.4.1.2097152", ".1.3.6.1.4.1.268435456",
		".1.3.6.1.4.1.268435455", ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.25",
	}
	for i, n := range names {
		tr.Set(intVar(n, i))
	}
	want := slices.Clone(names)
	slices.SortFunc(want, compareOIDs)
	got := walk(t, tr)
	if !slices.Equal(got, want) {
		t.Fatalf("walk order\n got %v\nwant %v", got, want)
	}
	if i := slices.Index(got, ".1.3.6.1.2.1.2"); got[i+1] != ".1.3.6.1.2.1.2.1.0" || got[i+2] != ".1.3.6.1.2.1.10" {
		t.Fatalf(".2 < .2.1.0 < .10 broken: %v", got)
	}
}

func TestMapTreeRandomOrderMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tr := NewMapTree()
	seen := map[string]bool{}
	for range 2000 {
		n := 1 + r.IntN(6)
		arcs := make([]string, n)
		for i := range arcs {
			// Mostly small arcs, sometimes large ones, to cross every key length.
			v := r.Uint32N(200)
			if r.IntN(4) == 0 {
				v = r.Uint32()
			}
			arcs[i] = strconv.FormatUint(uint64(v), 10)
		}
		name := ".1.3." + strings.Join(arcs, ".")
		seen[name] = true
		tr.Set(intVar(name, 0))
	}
	want := make([]string, 0, len(seen))
	for n := range seen {
		want = append(want, n)
	}
	slices.SortFunc(want, compareOIDs)
	if got := walk(t, tr); !slices.Equal(got, want) {
		t.Fatalf("order differs from the reference (%d vs %d names)", len(got), len(want))
	}
	if tr.Len() != len(want) {
		t.Fatalf("Len %d, want %d", tr.Len(), len(want))
	}
}

func TestMapTreeGetNextBetween(t *testing.T) {
	tr := NewMapTree()
	tr.Set(intVar("1.3.6.1.2.1.1.1.0", 1)) // no leading dot: stored with one
	tr.Set(intVar(".1.3.6.1.2.1.1.3.0", 3))
	if v, ok := tr.Get(".1.3.6.1.2.1.1.1.0"); !ok || v.Name != ".1.3.6.1.2.1.1.1.0" || v.Value != 1 {
		t.Fatalf("Get = %+v %v", v, ok)
	}
	if _, ok := tr.Get(".1.3.6.1.2.1.1.2.0"); ok {
		t.Fatal("Get of a missing OID succeeded")
	}
	// Next from a name that is not in the tree, and from a prefix of a name.
	for from, want := range map[string]string{
		"":                     ".1.3.6.1.2.1.1.1.0",
		".1.3.6.1.2.1.1.2":     ".1.3.6.1.2.1.1.3.0",
		".1.3.6.1.2.1.1":       ".1.3.6.1.2.1.1.1.0",
		".1.3.6.1.2.1.1.1.0":   ".1.3.6.1.2.1.1.3.0",
		".1.3.6.1.2.1.1.1.0.5": ".1.3.6.1.2.1.1.3.0",
		".0":                   ".1.3.6.1.2.1.1.1.0",
	} {
		if v, ok := tr.Next(from); !ok || v.Name != want {
			t.Errorf("Next(%q) = %q %v, want %q", from, v.Name, ok, want)
		}
	}
	if v, ok := tr.Next(".1.3.6.1.2.1.1.3.0"); ok {
		t.Errorf("Next past the end = %q", v.Name)
	}
	if v, ok := tr.Next(".2"); ok {
		t.Errorf("Next(.2) = %q", v.Name)
	}
}

func TestMapTreeRejectsBadNames(t *testing.T) {
	tr := NewMapTree()
	for _, n := range []string{"", ".", "1..3", "1.3.x", "1.3.-1", "1.3.+1", "1.3.4294967296", "1.3.01", "sysDescr.0",
		"1", "3.1", "1.40", "1.128", strings.Repeat(".1", 129)} {
		tr.Set(intVar(n, 0))
		tr.SetFunc(n, func() Var { return Var{} })
		if _, ok := tr.Get(n); ok {
			t.Errorf("Get(%q) found something", n)
		}
	}
	if tr.Len() != 0 {
		t.Fatalf("bad names were stored: Len %d", tr.Len())
	}
	tr.Set(intVar(".2.999.1", 1)) // under joint-iso-itu-t any second arc is fine
	if tr.Len() != 1 {
		t.Fatal(".2.999.1 rejected")
	}
}

func TestMapTreeSetFuncDeleteReplace(t *testing.T) {
	tr := NewMapTree()
	calls := 0
	tr.SetFunc(".1.3.6.1.2.1.1.3.0", func() Var {
		calls++
		// Reading the tree from inside fn must not deadlock.
		tr.Get(".1.3.6.1.2.1.1.1.0")
		return Var{Name: "ignored", Type: gosnmp.TimeTicks, Value: uint32(calls)}
	})
	tr.Set(intVar(".1.3.6.1.2.1.1.1.0", 7))
	for i := 1; i <= 2; i++ {
		v, ok := tr.Get(".1.3.6.1.2.1.1.3.0")
		if !ok || v.Value != uint32(i) || v.Name != ".1.3.6.1.2.1.1.3.0" || v.Type != gosnmp.TimeTicks {
			t.Fatalf("read %d: %+v %v", i, v, ok)
		}
	}
	if v, _ := tr.Next(".1.3.6.1.2.1.1.1.0"); v.Value != uint32(3) {
		t.Fatalf("Next did not call fn: %+v", v)
	}
	tr.Set(intVar(".1.3.6.1.2.1.1.3.0", 9)) // replaces the function
	if v, _ := tr.Get(".1.3.6.1.2.1.1.3.0"); v.Value != 9 || tr.Len() != 2 {
		t.Fatalf("replace: %+v, Len %d", v, tr.Len())
	}
	tr.Delete(".1.3.6.1.2.1.1.1.0")
	tr.Delete(".1.3.6.1.2.1.1.1.0") // twice is harmless
	if _, ok := tr.Get(".1.3.6.1.2.1.1.1.0"); ok || tr.Len() != 1 {
		t.Fatalf("Delete left it, Len %d", tr.Len())
	}
}

func TestMapTreeDeletePrefixWholeArcs(t *testing.T) {
	tr := NewMapTree()
	for _, n := range []string{".1.3.6.1.2.1.2", ".1.3.6.1.2.1.2.1.0", ".1.3.6.1.2.1.2.2.1.1.1",
		".1.3.6.1.2.1.2.2.1.1.2", ".1.3.6.1.2.1.25.1.0", ".1.3.6.1.2.1.3.1", ".1.3.6.1.2.1.1.1.0"} {
		tr.Set(intVar(n, 0))
	}
	tr.DeletePrefix("1.3.6.1.2.1.2")
	want := []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.3.1", ".1.3.6.1.2.1.25.1.0"}
	if got := walk(t, tr); !slices.Equal(got, want) {
		t.Fatalf("after DeletePrefix: %v, want %v", got, want)
	}
	tr.DeletePrefix(".1.3.6.1.9") // nothing under it
	if tr.Len() != 3 {
		t.Fatalf("Len %d", tr.Len())
	}
}

// TestMapTreeConcurrent mutates a table while readers walk it; under -race it proves
// the locking, and every walk must stay in order and end.
func TestMapTreeConcurrent(t *testing.T) {
	tr := NewMapTree()
	for i := range 200 {
		tr.Set(intVar(fmt.Sprintf(".1.3.6.1.2.1.1.%d.0", i), i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				row := fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d", (i+w)%7)
				switch i % 4 {
				case 0:
					tr.Set(intVar(row+"."+strconv.Itoa(i%50), i))
				case 1:
					tr.SetFunc(row+".99", func() Var { return intVar("", i) })
				case 2:
					tr.Delete(row + "." + strconv.Itoa(i%50))
				case 3:
					tr.DeletePrefix(row)
				}
			}
		})
	}
	for range 50 {
		if got := walk(t, tr); len(got) < 200 {
			t.Fatalf("walk lost fixed rows: %d", len(got))
		}
	}
	close(stop)
	wg.Wait()
}

package mib

import (
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary text to the loader as a MIB file: it may fail, never panic,
// and whatever it loads must be resolvable back by name.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/good/HSMWATCH-TEST-MIB.txt", "testdata/good/HSMWATCH-TEST-V1-MIB.txt", "testdata/bad/BROKEN-MIB.txt"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 8<<10 {
			return // MIB files are operator-supplied; the parser is not linear on huge junk
		}
		l := newLoader()
		errs := []error{l.parseText("FUZZ-MIB.txt", []byte(text))}
		tb := New()
		_ = tb.resolveAll(l, errs)
		for _, e := range tb.Entries() {
			if oid, ok := tb.Resolve(e.FullName()); !ok || oid != e.OID {
				t.Fatalf("%s resolves to %q, want %s", e.FullName(), oid, e.OID)
			}
		}
	})
}

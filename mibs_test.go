package hsmwatch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// The extracted folder loads with the SMI parser and names the Dinamo objects that the
// built-in table leaves raw.
func TestExtractLoads(t *testing.T) {
	dir, err := ExtractMIBs(filepath.Join(t.TempDir(), "mibs"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Glob("mibs/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("extracted %d files, the folder has %d", len(got), len(want))
	}
	table := mib.Builtin()
	if _, ok := table.Resolve("DINAMO-STANDIN-MIB::hsmCryptoBattery"); ok {
		t.Fatal("the built-in table already names Dinamo objects: the test proves nothing")
	}
	if err := table.Load(dir); err != nil {
		t.Fatal(err)
	}
	if _, ok := table.Resolve("DINAMO-STANDIN-MIB::hsmCryptoBattery"); !ok {
		t.Fatal("the extracted MIBs do not name hsmCryptoBattery")
	}
}

package mib

import (
	"os"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

func TestBuiltin(t *testing.T) {
	tb := Builtin()
	if tb.Len() < 60 {
		t.Fatalf("builtin has %d entries", tb.Len())
	}
	for oid, want := range map[string]string{
		".1.3.6.1.4.1.23629.1.5.2.2.1.0":                         "SAFENET-APPLIANCE-MIB::ssLogReference.0",
		"1.3.6.1.4.1.23629.1.5.2.2.6":                            "SAFENET-APPLIANCE-MIB::ntlsAttentionNotify",
		".1.3.6.1.4.1.23629.1.5.1.2.1.11.7.49.50.51.52.53.54.55": "SAFENET-HSM-MIB::hsmStorageAvailableBytes.7.49.50.51.52.53.54.55",
		".1.3.6.1.2.1.1.3.0":                                     "SNMPv2-MIB::sysUpTime.0",
		".1.3.6.1.4.1.41054.1.2.3":                               ".1.3.6.1.4.1.41054.1.2.3",         // Dinamo: raw without a MIB
		".1.3.6.1.4.1.23629.1.5.2.2.3":                           "SAFENET-APPLIANCE-MIB::ssTraps.3", // not public
	} {
		if got := tb.Name(oid); got != want {
			t.Errorf("Name(%s) = %s, want %s", oid, got, want)
		}
	}
	for name, want := range map[string]string{
		"SAFENET-APPLIANCE-MIB::fanAttentionNotify": ".1.3.6.1.4.1.23629.1.5.2.2.2",
		"hsmAdminLoginAttempts.5.48.48.48.48.49":    ".1.3.6.1.4.1.23629.1.5.1.2.1.16.5.48.48.48.48.49",
		"sysUpTime.0":                               ".1.3.6.1.2.1.1.3.0",
		".1.3.6.1.4.1.41054.7":                      ".1.3.6.1.4.1.41054.7",
	} {
		if got, ok := tb.Resolve(name); !ok || got != want {
			t.Errorf("Resolve(%s) = %s %v, want %s", name, got, ok, want)
		}
	}
	for _, bad := range []string{"", "noSuchThing", "sysUpTime.x"} {
		if got, ok := tb.Resolve(bad); ok {
			t.Errorf("Resolve(%q) = %s", bad, got)
		}
	}
	e, _, _ := tb.Lookup(".1.3.6.1.4.1.12383.3.1.2.1.0")
	if e == nil || e.Value(1) != "up(1)" || e.Value(9) != "9" {
		t.Errorf("ntlsOperStatus enum: %+v", e)
	}
}

func TestBuiltinTextErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{".1.3 X::y", "want OID"},
		{"1.3.x X::y node", "not a numeric OID"},
		{".1.3 y node", "not MODULE::name"},
		{".1.3 X::y thing", `kind "thing"`},
		{".1.3 X::y scalar INTEGER up=one", `enum "up=one"`},
	} {
		err := New().addText("f.txt", "# c\n"+c.line)
		if err == nil || !strings.Contains(err.Error(), "f.txt:2: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.line, err)
		}
	}
}

func TestLoadModules(t *testing.T) {
	tb := Builtin()
	if err := tb.Load("testdata/good"); err != nil {
		t.Fatal(err)
	}
	base := ".1.3.6.1.4.1.99999"
	cases := []struct {
		oid, name string
		kind      Kind
	}{
		{base, "HSMWATCH-TEST-MIB::hsmwatchTest", KindNode},
		{base + ".1.1", "HSMWATCH-TEST-MIB::testBattery", KindScalar},
		{base + ".1.3", "HSMWATCH-TEST-MIB::testTable", KindTable},
		{base + ".1.3.1", "HSMWATCH-TEST-MIB::testEntry", KindRow},
		{base + ".1.3.1.2", "HSMWATCH-TEST-MIB::testFree", KindColumn},
		{base + ".2.1", "HSMWATCH-TEST-MIB::testBatteryLow", KindNotification},
		{base + ".0.7", "HSMWATCH-TEST-V1-MIB::testTamper", KindNotification},
	}
	for _, c := range cases {
		e, suffix, ok := tb.Lookup(c.oid)
		if !ok || suffix != "" || e.FullName() != c.name || e.Kind != c.kind {
			t.Errorf("%s: got %+v (suffix %q), want %s %v", c.oid, e, suffix, c.name, c.kind)
		}
	}
	e, _, _ := tb.Lookup(base + ".1.2.0")
	if e.Value(2) != "degraded(2)" {
		t.Errorf("textual convention enum: %+v", e)
	}
	e, _, _ = tb.Lookup(base + ".1.3.1.3.3.65.66.67")
	if e.Value(1) != "true(1)" {
		t.Errorf("TruthValue without SNMPv2-TC loaded: %+v", e)
	}
	if e, _, _ := tb.Lookup(base + ".1.1"); e.Units != "percent" || !strings.HasSuffix(e.Origin, "HSMWATCH-TEST-MIB.txt:27") {
		t.Errorf("units/origin: %+v", e)
	}
	n, _, _ := tb.Lookup(base + ".2.1")
	if strings.Join(n.Objects, ",") != "HSMWATCH-TEST-MIB::testBattery,HSMWATCH-TEST-MIB::testState" {
		t.Errorf("notification objects: %v", n.Objects)
	}
	v1, _, _ := tb.Lookup(base + ".0.7")
	if strings.Join(v1.Objects, ",") != "HSMWATCH-TEST-MIB::testBattery" {
		t.Errorf("v1 trap objects: %v", v1.Objects)
	}
	if got, ok := tb.Resolve("HSMWATCH-TEST-MIB::testFree.3.65.66.67"); !ok || got != base+".1.3.1.2.3.65.66.67" {
		t.Errorf("resolve loaded name: %s", got)
	}
}

// A broken file and a dangling import are reported with file and line; the rest loads.
func TestLoadErrors(t *testing.T) {
	tb := New()
	err := tb.Load("testdata/bad", "testdata/good", "testdata/none")
	if err == nil {
		t.Fatal("no error for broken MIBs")
	}
	msg := err.Error()
	for _, want := range []string{
		"testdata/bad/BROKEN-MIB.txt: ",
		"testdata/bad/DANGLING-MIB.txt:4: nowhere is imported from MISSING-MIB, which is not loaded",
		"testdata/none",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if got := tb.Name(".1.3.6.1.4.1.99998"); got != "DANGLING-MIB::fine" {
		t.Errorf("the resolvable part of a broken module: %s", got)
	}
	if got := tb.Name(".1.3.6.1.4.1.99999.1.1.0"); got != "HSMWATCH-TEST-MIB::testBattery.0" {
		t.Errorf("good modules beside bad ones: %s", got)
	}
}

// net-snmp's own MIBs as Debian ships them load without the base modules they import.
// A folder's non-MIB files are skipped; a file named on its own must be a MIB.
func TestLoadSkipsNonMIBFiles(t *testing.T) {
	dir := t.TempDir()
	readme := dir + "/README.md"
	if err := os.WriteFile(readme, []byte("# notes about these MIBs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := New().Load(dir); err != nil {
		t.Fatalf("folder with a README: %v", err)
	}
	if err := New().Load(readme); err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Fatalf("README named on its own: %v", err)
	}
}

// The project's own mibs/ folder (stand-in Dinamo MIB, reconstructed Luna MIBs, IETF base
// modules) loads without error, and names what the simulator serves.
func TestLoadProjectMIBs(t *testing.T) {
	tb := Builtin()
	if err := tb.Load("../../../mibs"); err != nil {
		t.Fatal(err)
	}
	if got := tb.Name(".1.3.6.1.4.1.23629.1.5.2.2.3"); got != "SAFENET-APPLIANCE-MIB::powerSupplyAttentionNotify" {
		t.Errorf("power supply notification from the loaded MIB: %s", got)
	}
	var dinamo int
	for _, e := range tb.Entries() {
		if strings.HasPrefix(e.OID, ".1.3.6.1.4.1.41054.") && e.Kind == KindNotification {
			dinamo++
		}
	}
	if dinamo != 30 {
		t.Errorf("%d Dinamo notifications in the stand-in MIB, want the spec's 30", dinamo)
	}
	// A received Dinamo trap is named through the MIB and classified by that name: every
	// Dinamo trap rule's name must be a notification of the MIB.
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Rules() {
		if name := r.Match.Fields["trap"]; strings.HasPrefix(r.ID, "dinamo.trap.") {
			oid, ok := tb.Resolve("DINAMO-STANDIN-MIB::" + name)
			if e, _, _ := tb.Lookup(oid); !ok || e.Kind != KindNotification || !strings.HasPrefix(oid, ".1.3.6.1.4.1.41054.") {
				t.Errorf("rule %s names trap %q, which the Dinamo MIB does not declare", r.ID, name)
			}
		}
	}
}

func TestLoadNetSNMPMIBs(t *testing.T) {
	const f = "/usr/share/snmp/mibs/UCD-SNMP-MIB.txt"
	if _, err := os.Stat(f); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: the test script installs Debian's snmp package", f)
		}
		t.Skip(f, " not installed")
	}
	tb := New()
	if err := tb.Load(f); err != nil {
		t.Fatal(err)
	}
	if got := tb.Name(".1.3.6.1.4.1.2021.4.6.0"); got != "UCD-SNMP-MIB::memAvailReal.0" {
		t.Errorf("memAvailReal: %s", got)
	}
	if got := tb.Name(".1.3.6.1.4.1.2021.11.11.0"); got != "UCD-SNMP-MIB::ssCpuIdle.0" {
		t.Errorf("ssCpuIdle: %s", got)
	}
}

func TestLess(t *testing.T) {
	ordered := []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.1.0", ".1.3.6.1.2.1.2", ".1.3.6.1.2.1.10", "1.3.6.1.2.1.10.1", ".1.3.6.2"}
	for i := range ordered {
		for j := range ordered {
			if got := Less(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("Less(%s, %s) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}

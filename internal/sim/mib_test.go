package sim

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sleepinggenius2/gosmi"
	"github.com/sleepinggenius2/gosmi/types"
)

// mibDir is the repository's mibs/ folder.
func mibDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "mibs"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// shippedModules are the MIB modules of mibs/ whose objects the models serve or send.
var shippedModules = []string{dinamoModule, chrysalisModule, safenetHSMModule, safenetApplModule}

// TestMIBsLoadInGosmiAndMatchTables loads every shipped module with gosmi (the parser the
// project's MIB loader uses) and checks both ways that the OID tables of the models and
// the MIB files agree: every served or sent object of those modules is declared at the
// same OID, and every scalar, column and notification declared is in a table.
func TestMIBsLoadInGosmiAndMatchTables(t *testing.T) {
	gosmi.Init()
	defer gosmi.Exit()
	gosmi.SetPath(mibDir(t))
	tables := map[string][]Object{}
	for _, o := range append(DinamoObjects(), LunaObjects()...) {
		tables[o.Module] = append(tables[o.Module], o)
	}
	for _, mod := range shippedModules {
		name, err := gosmi.LoadModule(mod)
		if err != nil || name != mod {
			t.Fatalf("gosmi cannot load %s: %v", mod, err)
		}
		m, err := gosmi.GetModule(mod)
		if err != nil {
			t.Fatal(err)
		}
		declared := map[string]string{}
		for _, n := range m.GetNodes() {
			switch n.Kind {
			case types.NodeScalar, types.NodeColumn, types.NodeNotification:
				declared[n.Name] = "." + n.RenderNumeric()
			}
		}
		if len(declared) == 0 {
			t.Fatalf("%s declares nothing", mod)
		}
		seen := map[string]bool{}
		for _, o := range tables[mod] {
			seen[o.Name] = true
			got, ok := declared[o.Name]
			if !ok {
				t.Errorf("%s::%s is in the table but not in the MIB file", mod, o.Name)
				continue
			}
			if got != o.OID {
				t.Errorf("%s::%s: table says %s, MIB file %s", mod, o.Name, o.OID, got)
			}
		}
		for name := range declared {
			if !seen[name] {
				t.Errorf("%s::%s is declared but no model serves or sends it", mod, name)
			}
		}
	}
}

// TestMIBsLoadInNetSNMP loads the shipped modules with net-snmp's parser the way an
// operator would (-M +mibs -m ALL) and translates each object of the tables both ways.
func TestMIBsLoadInNetSNMP(t *testing.T) {
	tool := needTool(t, "snmptranslate")
	dir := mibDir(t)
	args := []string{"-M", "+" + dir, "-m", "ALL", "-On"}
	var names []string
	var want []string
	for _, o := range append(DinamoObjects(), LunaObjects()...) {
		if !isShipped(o.Module) {
			continue
		}
		names = append(names, o.Module+"::"+o.Name)
		want = append(want, o.OID)
	}
	cmd := exec.Command(tool, append(args, names...)...)
	out, err := cmd.Output()
	stderr := ""
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	if err != nil {
		t.Fatalf("snmptranslate: %v\n%s", err, stderr)
	}
	got := strings.Fields(string(out))
	if len(got) != len(want) {
		t.Fatalf("snmptranslate gave %d OIDs for %d names:\n%s\n%s", len(got), len(want), out, stderr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: net-snmp says %s, the table %s", names[i], got[i], want[i])
		}
	}
	// Errors about our own modules (Debian's own MIBs miss some IETF modules; their
	// complaints are not ours).
	out2, _ := exec.Command(tool, "-M", "+"+dir, "-m", "ALL", "-Pe", "-On", "SNMPv2-SMI::enterprises").CombinedOutput()
	for _, line := range strings.Split(string(out2), "\n") {
		for _, m := range append(shippedModules, "SAFENET-GLOBAL-MIB", "SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "HCNUM-TC") {
			if strings.Contains(line, m+".txt") || strings.Contains(line, "in "+m) {
				t.Errorf("net-snmp complains about %s: %s", m, line)
			}
		}
	}
	// Numeric to names, as snmptrapd prints a notification.
	back, err := exec.Command(tool, "-M", "+"+dir, "-m", "ALL", dinamoNotifyOID+".17", ssTrapsOID+".2").Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := string(back); !strings.Contains(s, "DINAMO-STANDIN-MIB::privateKeyExported") || !strings.Contains(s, "SAFENET-APPLIANCE-MIB::fanAttentionNotify") {
		t.Errorf("net-snmp does not name the notifications: %s", s)
	}
}

func isShipped(module string) bool {
	for _, m := range shippedModules {
		if m == module {
			return true
		}
	}
	return false
}

// needTool returns the path of a net-snmp tool (testutil.NeedTool).
func needTool(t *testing.T, name string) string {
	t.Helper()
	return testutil.NeedTool(t, name, "snmp, snmptrapd")
}

// TestMIBFolderHoldsOnlyModules keeps mibs/ loadable as a whole (--mibs mibs, -M +mibs):
// every file is one MIB module named as its file, nothing else (a README there would be
// parsed as a MIB by the project's loader).
func TestMIBFolderHoldsOnlyModules(t *testing.T) {
	dir := mibDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		module := strings.TrimSuffix(e.Name(), ".txt")
		var first string
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				first = l
				break
			}
		}
		if first != module+" DEFINITIONS ::= BEGIN" {
			t.Errorf("mibs/%s: first line %q, want %q", e.Name(), first, module+" DEFINITIONS ::= BEGIN")
		}
	}
}

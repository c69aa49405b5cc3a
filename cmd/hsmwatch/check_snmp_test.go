package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// check snmp and poll against simulated HSMs in this process, on loopback UDP: a Dinamo
// (v2c, community public) and a Luna (SNMPv3 user ops, SHA/AES). The simulators read a
// Manual clock; the values a first line shows are pinned with the scenario "set" action
// so that the expected lines can be written out in full.

var snmpT0 = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

const (
	snmpLunaAuth = "cli-auth-pass-1"
	snmpLunaPriv = "cli-priv-pass-2"
)

func startSNMPSim(t *testing.T, clock sim.Clock, hsms ...sim.HSMConfig) *sim.Fleet {
	t.Helper()
	no := false
	f, err := sim.NewFleet(&sim.FleetConfig{Seed: 3, Activity: &no, HSMs: hsms}, sim.FleetOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func simDinamo() sim.HSMConfig {
	return sim.HSMConfig{Vendor: sim.VendorDinamo, Addr: "127.0.0.1:0", Name: "d1", Serial: "TCA0000042"}
}

func simLuna() sim.HSMConfig {
	const mib4 = 4 << 20
	return sim.HSMConfig{Vendor: sim.VendorLuna, Addr: "127.0.0.1:0", Name: "l1", Hostname: "myLuna", Serial: "532018",
		Users: []sim.UserConfig{{Name: "ops", Auth: "SHA", AuthPass: snmpLunaAuth, Priv: "AES", PrivPass: snmpLunaPriv}},
		Partitions: []sim.PartitionConfig{
			{Serial: "532018000011", Label: "par0", TotalBytes: mib4, UsedBytes: mib4 / 4, Objects: 400},
			{Serial: "532018000012", Label: "par1", TotalBytes: mib4, UsedBytes: mib4 / 2, Objects: 800},
			{Serial: "532018000013", Label: "par2", TotalBytes: mib4, UsedBytes: mib4 / 8, Objects: 200},
		}}
}

// apply runs scenario steps (YAML list items) on a device now.
func apply(t *testing.T, dev sim.Device, steps string) {
	t.Helper()
	sc, err := sim.ParseScenario("t", []byte("vendor: "+dev.Info().Vendor+"\nsteps:\n"+steps))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.Steps {
		if err := dev.Apply(t.Context(), &sc.Steps[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// pinDinamo fixes the Dinamo's moving values: disk 25 % used, battery 93 %, memory 41 %.
func pinDinamo(t *testing.T, dev sim.Device) {
	apply(t, dev, `  - {set: {object: diskFreeBlockCount, value: 786432}}
  - {battery: {percent: 93}}
  - {set: {object: usedMemory, value: 41}}
  - {set: {object: cpuLoadAverage, value: 14}}
  - {set: {object: sessionCount, value: 0}}
  - {set: {object: objCount, value: 26}}
`)
}

// pinLuna fixes the Luna's moving values: memory 50 % used, 4 clients on 6 links.
func pinLuna(t *testing.T, dev sim.Device) {
	apply(t, dev, `  - {set: {object: memAvailReal, value: 8000000}}
  - {set: {object: memBuffer, value: 159184}}
  - {set: {object: memCached, value: 0}}
  - {set: {object: ntlsConnectedClients, value: 4}}
  - {set: {object: ntlsLinks, value: 6}}
`)
}

func lunaArgs(addr string, extra ...string) []string {
	return append([]string{"check", "snmp", addr, "--mibs", filepath.Join("..", "..", "mibs"), "-u", "ops"}, extra...)
}

func TestCheckSNMPDinamo(t *testing.T) {
	clock := sim.NewManual(snmpT0)
	f := startSNMPSim(t, clock, simDinamo())
	m := f.Members()[0]
	pinDinamo(t, m.Device)
	mibs := filepath.Join("..", "..", "mibs")
	perf := " | disk_used=25%;80;90;0;100 battery=93%;50:;25:;0;100 tamper=0;;0 memory_used=41%;90;95;0;100 cpu_load=14%;;;0;100 sessions=0 objects=26\n"
	expect(t, []string{"check", "snmp", m.Addr(), "--mibs", mibs}, 0, "OK: TCA0000042 (dinamo): 7 health items OK"+perf)
	// -w and -c are the storage thresholds
	expect(t, []string{"check", "snmp", m.Addr(), "--mibs", mibs, "-w", "20", "-c", "50"}, 1,
		"WARNING: TCA0000042 (dinamo): disk used is 25% (warning when above 20); 6 more OK | disk_used=25%;20;50;0;100 battery=93%;50:;25:;0;100 tamper=0;;0 memory_used=41%;90;95;0;100 cpu_load=14%;;;0;100 sessions=0 objects=26\n")
	// the battery runs down
	apply(t, m.Device, "  - {battery: {percent: 20}}\n")
	expect(t, []string{"check", "snmp", m.Addr(), "--mibs", mibs, "--profile", "dinamo"}, 2,
		"CRITICAL: TCA0000042 (dinamo): tamper battery charge is 20% (critical when below 25); 6 more OK | disk_used=25%;80;90;0;100 battery=20%;50:;25:;0;100 tamper=0;;0 memory_used=41%;90;95;0;100 cpu_load=14%;;;0;100 sessions=0 objects=26\n")
	// --threshold moves one item's ranges
	expect(t, []string{"check", "snmp", m.Addr(), "--mibs", mibs, "--threshold", "battery=30:,10:"}, 1,
		"WARNING: TCA0000042 (dinamo): tamper battery charge is 20% (warning when below 30); 6 more OK | disk_used=25%;80;90;0;100 battery=20%;30:;10:;0;100 tamper=0;;0 memory_used=41%;90;95;0;100 cpu_load=14%;;;0;100 sessions=0 objects=26\n")
	// without the MIB that names the Dinamo objects
	expect(t, []string{"check", "snmp", m.Addr()}, 3,
		"UNKNOWN: TCA0000042 (dinamo): the Dinamo objects have no public numbers: give the vendor's Dinamo-MIB.txt with --mibs DIR (the numbers of hsmwatch's simulator are in mibs/DINAMO-STANDIN-MIB.txt)\n")
}

func TestCheckSNMPLuna(t *testing.T) {
	clock := sim.NewManual(snmpT0)
	f := startSNMPSim(t, clock, simLuna())
	m := f.Members()[0]
	pinLuna(t, m.Device)
	t.Setenv("HSMWATCH_AUTH_PASS", snmpLunaAuth)
	t.Setenv("HSMWATCH_PRIV_PASS", snmpLunaPriv)
	perf := func(par0, ntls string) string {
		return " | hsm_storage_used_532018=37.5%;80;90;0;100 partition_storage_used_par0=" + par0 + "%;80;90;0;100 " +
			"partition_storage_used_par1=50%;80;90;0;100 partition_storage_used_par2=12.5%;80;90;0;100 " +
			"admin_login_attempts_left_532018=3;3:;2: manually_zeroized_532018=2;;@1:1 ntls_status=" + ntls + ";1:1;@2:2 " +
			"ntls_clients=4 ntls_links=6 memory_used=50%;90;95;0;100\n"
	}
	expect(t, lunaArgs(m.Addr()), 0, "OK: myLuna (luna-network): 10 health items OK"+perf("25", "1"))
	// an application fills par0: 2.5 MiB more makes it 87.5 % full
	apply(t, m.Device, "  - {partition: {partition: par0, grow: 2621440, objects: 400}}\n")
	expect(t, lunaArgs(m.Addr()), 1,
		"WARNING: myLuna (luna-network): partition storage used par0 is 87.5% (warning when above 80); 9 more OK"+perf("87.5", "1"))
	// NTLS crashes: critical first in the summary
	apply(t, m.Device, "  - {ntls: {state: crash}}\n")
	expect(t, lunaArgs(m.Addr()), 2,
		"CRITICAL: myLuna (luna-network): NTLS status is notRunning(2) (critical when equal to 2); partition storage used par0 is 87.5% (warning when above 80); 8 more OK"+perf("87.5", "2"))
	// -v: one line per item after the first
	code, out := runCheck(t, lunaArgs(m.Addr(), "-v")...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 2 || len(lines) != 1+14+1 || lines[2] != "OK: partition storage used par0 is 87.5%" && lines[2] != "WARNING: partition storage used par0 is 87.5% (warning when above 80)" {
		t.Errorf("-v: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "PENDING: HSM operation error rate is pending: first reading") ||
		!strings.HasSuffix(out, "Rates need the counters of the previous run: give --state-file FILE\n") {
		t.Errorf("-v: %s", out)
	}
}

// TestCheckSNMPUnknown: no agent, a refused key, a check slower than -t, a bad command
// line: UNKNOWN with what to check, on standard output, exit 3, no secret shown.
func TestCheckSNMPUnknown(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	addr := silent.LocalAddr().String()
	expect(t, []string{"check", "snmp", addr, "--snmp-timeout", "200ms", "--retries", "0"}, 3,
		"UNKNOWN: "+addr+": detecting the profile: no answer within 200ms x 1 tries: check the address and port, that SNMP is enabled on the HSM, the community (an agent does not answer a wrong community), and firewalls\n")
	expect(t, []string{"check", "snmp", addr, "--snmp-timeout", "2s", "-t", "0.3"}, 3,
		"UNKNOWN: timed out after 0.3s polling "+addr+" v2c: raise -t or lower --snmp-timeout and --retries\n")
	expect(t, []string{"check", "snmp", addr, "-t", "0.3:critical", "--snmp-timeout", "2s"}, 2,
		"CRITICAL: timed out after 0.3s polling "+addr+" v2c: raise -t or lower --snmp-timeout and --retries\n")

	clock := sim.NewManual(snmpT0)
	f := startSNMPSim(t, clock, simLuna())
	luna := f.Members()[0].Addr()
	code, out := runCheck(t, lunaArgs(luna, "--auth-pass", "a-wrong-passphrase", "--priv-pass", snmpLunaPriv)...)
	want := "UNKNOWN: " + luna + ": detecting the profile: the agent's answer does not authenticate with our key: check the SNMPv3 user name (ops), its authentication protocol (SHA) and passphrase, and its privacy protocol (AES) and passphrase\n"
	if code != 3 || out != want {
		t.Errorf("wrong key: exit %d\n%s\nwant\n%s", code, out, want)
	}
	if strings.Contains(out, "a-wrong-passphrase") || strings.Contains(out, snmpLunaPriv) {
		t.Errorf("a passphrase in the output: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "snmp"}, "UNKNOWN: give one HSM address (HOST or HOST:PORT), got 0 arguments (see hsmwatch check snmp --help)\n"},
		{[]string{"check", "snmp", "h", "-w", "x"}, "UNKNOWN: warning threshold: range \"x\": \"x\" is not a number (see hsmwatch check snmp --help)\n"},
		{[]string{"check", "snmp", "h", "--profile", "thales"}, "UNKNOWN: profile \"thales\": use auto or one of [dinamo generic luna-network luna-pcie-host] (see hsmwatch check snmp --help)\n"},
		{[]string{"check", "snmp", "h", "-u", "ops", "--auth-pass", "short"}, "UNKNOWN: user ops: the authentication passphrase has fewer than 8 characters (RFC 3414 keys need 8) (see hsmwatch check snmp --help)\n"},
		{[]string{"check", "snmp", "h", "--threshold", "batery=1"}, "UNKNOWN: threshold batery: no profile has a health item of that name (items: disk_used, battery, tamper, memory_used, cpu_load, sessions, objects, log_growth, hsm_storage_used, partition_storage_used, admin_login_attempts_left, manually_zeroized, ntls_status, ntls_clients, ntls_links, operation_error_rate, operation_rate, failed_connection_rate, connection_rate) (see hsmwatch check snmp --help)\n"},
		{[]string{"check", "snmp", "h", "--bogus"}, "UNKNOWN: unknown flag: --bogus (see hsmwatch check snmp --help)\n"},
	} {
		expect(t, c.args, 3, c.want)
	}
}

// TestCheckSNMPStateFile: rates need the previous run's counters; --state-file keeps
// them. The second run is a minute later on the simulator's clock; the state file's
// times are moved back by that minute, as if the wall clock had moved with it.
func TestCheckSNMPStateFile(t *testing.T) {
	clock := sim.NewManual(snmpT0)
	f := startSNMPSim(t, clock, simLuna())
	m := f.Members()[0]
	pinLuna(t, m.Device)
	t.Setenv("HSMWATCH_AUTH_PASS", snmpLunaAuth)
	state := filepath.Join(t.TempDir(), "luna.state")
	secret := filepath.Join(t.TempDir(), "priv")
	if err := os.WriteFile(secret, []byte(snmpLunaPriv+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := lunaArgs(m.Addr(), "--priv-pass-file", secret, "--state-file", state)
	code, out := runCheck(t, args...)
	if code != 0 || strings.Contains(out, "operation_rate") {
		t.Fatalf("first run: exit %d %s", code, out)
	}
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), snmpLunaAuth) || strings.Contains(string(data), snmpLunaPriv) {
		t.Fatalf("the state file shows a passphrase")
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st["readings"].(map[string]any) {
		rd := r.(map[string]any)
		at, _ := time.Parse(time.RFC3339Nano, rd["time"].(string))
		rd["time"] = at.Add(-time.Minute).Format(time.RFC3339Nano)
	}
	data, _ = json.Marshal(st)
	if err := os.WriteFile(state, data, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	apply(t, m.Device, "  - {auth_failure: {service: ntls}}\n  - {auth_failure: {service: ntls}}\n  - {auth_failure: {service: ntls}}\n  - {auth_failure: {service: ntls}}\n")
	code, out = runCheck(t, args...)
	// 4 failed connections in a minute (and the few milliseconds the runs took on the
	// wall clock, up to a few seconds on a loaded machine): 0.060 to 0.067/s, above the 0.05 warning
	first := regexp.MustCompile(`^WARNING: myLuna \(luna-network\): NTLS failed client connection rate is 0\.06[0-7]/s \(warning when above 0\.05\); 13 more OK \| .* operation_rate=1[0-9.]+ failed_connection_rate=0\.06[0-7];0\.05;0\.5 `)
	if code != 1 || !first.MatchString(out) {
		t.Errorf("second run: exit %d %s", code, out)
	}
}

func TestPollCommand(t *testing.T) {
	clock := sim.NewManual(snmpT0)
	f := startSNMPSim(t, clock, simDinamo(), simLuna())
	dinamo, luna := f.Members()[0], f.Members()[1]
	pinDinamo(t, dinamo.Device)
	pinLuna(t, luna.Device)
	mibs := filepath.Join("..", "..", "mibs")

	code, out, errOut := runCLI(t, "", "poll", "--mibs", mibs, dinamo.Addr())
	want := "target       " + dinamo.Addr() + " v2c\n" +
		"profile      dinamo (the agent serves objects under enterprise 41054 (Dinamo Networks): DINAMO-STANDIN-MIB::hsmUpTime.0)\n" +
		"host         TCA0000042\n" +
		"alias        d1\n"
	if code != 0 || errOut != "" || !strings.HasPrefix(out, want) {
		t.Errorf("poll dinamo: exit %d %s\n%s\nwant prefix\n%s", code, errOut, out, want)
	}
	for _, line := range []string{
		"health       OK\n",
		"STATE    HEALTH ITEM            VALUE                                      WARN  CRIT\n",
		"ok       disk used              25%                                        80    90\n",
		"ok       tamper state           untampered(0)                              -     0\n",
		"pending  event log growth       first reading: a rate needs a second poll  1024  10240\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("poll dinamo: no line %q in\n%s", line, out)
		}
	}

	// SNMPv3 with the passphrases from a file and the environment; JSON
	authFile := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(authFile, []byte(snmpLunaAuth+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HSMWATCH_PRIV_PASS", snmpLunaPriv)
	code, out, errOut = runCLI(t, "", "poll", "--mibs", mibs, "-u", "ops", "--auth-pass-file", authFile, "-o", "json", luna.Addr())
	var res struct {
		Profile  string
		Host     string
		State    string
		Identity []struct{ Label, Value string }
		Items    []struct{ Key, State, Text string }
		Views    []struct {
			Title string
			Rows  [][]string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || errOut != "" {
		t.Fatalf("poll luna json: exit %d %v %s\n%s", code, err, errOut, out)
	}
	if res.Profile != "luna-network" || res.Host != "myLuna" || res.State != "ok" || len(res.Views) != 1 ||
		res.Views[0].Title != "Partitions" || len(res.Views[0].Rows) != 3 || res.Items[1].Key != "partition_storage_used:par0" || res.Items[1].Text != "25%" {
		t.Errorf("poll luna json: %+v", res)
	}
	if strings.Contains(out, snmpLunaAuth) || strings.Contains(out, snmpLunaPriv) {
		t.Error("a passphrase in poll's output")
	}

	// failures: exit 1 and the reason on standard error; usage: exit 2
	code, out, errOut = runCLI(t, "", "poll", "--mibs", mibs, "-u", "ops", "--auth-pass", "not-the-pass", luna.Addr())
	if code != 1 || out != "" || !strings.Contains(errOut, "does not authenticate with our key") || strings.Contains(errOut, "not-the-pass") {
		t.Errorf("poll wrong key: exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "poll", "--output", "yaml", luna.Addr())
	if code != 2 || !strings.Contains(errOut, "--output \"yaml\": use text or json") {
		t.Errorf("poll bad output: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "poll", "--community", "x", "--community-file", authFile, luna.Addr())
	if code != 2 || !strings.Contains(errOut, "give the SNMP v2c community") || strings.Contains(errOut, snmpLunaAuth) {
		t.Errorf("poll two communities: %d %s", code, errOut)
	}
}

package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// End-to-end tests with net-snmp's own tools against the fleet as hsmwatch sim runs it:
// real sockets, the snmpagent responder, the shipped MIB files.

// startFleet runs cfg's HSMs on loopback ports of the system's choice until the test ends.
func startFleet(t *testing.T, cfg *FleetConfig) *Fleet {
	t.Helper()
	no := false
	cfg.Activity = &no
	f, err := NewFleet(cfg, FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
	})
	return f
}

// netsnmp runs a net-snmp tool with the shipped MIBs and returns stdout, stderr and the
// error (the exit status).
func netsnmp(t *testing.T, tool string, args ...string) (string, string, error) {
	t.Helper()
	path := needTool(t, tool)
	args = append([]string{"-M", "+" + mibDir(t), "-m", "ALL"}, args...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), mibNoise(errb.String()), err
}

// mibNoise removes net-snmp's complaints about Debian's own MIB files, which import IETF
// modules that Debian's free packages do not ship; complaints about ours stay.
func mibNoise(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if l == "" || strings.HasPrefix(l, "MIB search path") {
			continue
		}
		if strings.Contains(l, "/usr/share/snmp/mibs/") &&
			!strings.Contains(l, "UCD-SNMP-MIB") && !strings.Contains(l, "LM-SENSORS-MIB") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// walkOIDs is the OIDs of a walk printed with -On, in order.
func walkOIDs(t *testing.T, out string) []string {
	t.Helper()
	var oids []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "No more variables left in this MIB View") {
			continue // the walk's end, printed after the last OID
		}
		if i := strings.Index(l, " = "); i > 0 && strings.HasPrefix(l, ".") {
			oids = append(oids, l[:i])
		}
	}
	return oids
}

// sameOIDs checks that a tool's walk visited exactly the tree's OIDs, in order, once.
func sameOIDs(t *testing.T, what string, got []string, dev Device) {
	t.Helper()
	var want []string
	for _, v := range walkTree(t, dev.Tree()) {
		want = append(want, v.Name)
	}
	if len(got) != len(want) {
		t.Fatalf("%s returned %d OIDs, the tree has %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: OID %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

// getEvery asks for every instance the device serves with snmpget, 25 per request, and
// checks that each comes back, with a value.
func getEvery(t *testing.T, dev Device, args []string) {
	t.Helper()
	var oids []string
	for _, v := range walkTree(t, dev.Tree()) {
		oids = append(oids, v.Name)
	}
	got := 0
	for i := 0; i < len(oids); i += 25 {
		chunk := oids[i:min(i+25, len(oids))]
		out, errs, err := netsnmp(t, "snmpget", append(append([]string{"-On"}, args...), chunk...)...)
		if err != nil || errs != "" || strings.Contains(out, "No Such") {
			t.Fatalf("snmpget %v: %v\n%s\n%s", chunk, err, out, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, ".") && strings.Contains(l, " = ") {
				got++
			}
		}
	}
	if got != len(oids) {
		t.Errorf("snmpget returned %d of %d instances", got, len(oids))
	}
}

func TestNetSNMPDinamo(t *testing.T) {
	f := startFleet(t, &FleetConfig{Seed: 3, HSMs: []HSMConfig{{Vendor: VendorDinamo, Addr: "127.0.0.1:0"}}})
	m := f.Members()[0]
	addr := "udp:" + m.Addr()

	out, errs, err := netsnmp(t, "snmpwalk", "-v2c", "-c", "public", "-On", "-t", "2", "-r", "1", addr, ".1")
	if err != nil || errs != "" {
		t.Fatalf("snmpwalk: %v\n%s", err, errs)
	}
	if strings.Contains(out+errs, "OID not increasing") {
		t.Fatal(out)
	}
	sameOIDs(t, "snmpwalk -v2c", walkOIDs(t, out), m.Device)
	out, errs, err = netsnmp(t, "snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr7", addr, ".1")
	if err != nil || errs != "" {
		t.Fatalf("snmpbulkwalk: %v\n%s", err, errs)
	}
	sameOIDs(t, "snmpbulkwalk -v2c", walkOIDs(t, out), m.Device)
	getEvery(t, m.Device, []string{"-v2c", "-c", "public", addr})

	// snmpget of every object by its MIB name
	var names []string
	for _, o := range dinamoTable.list {
		if o.Kind == Scalar {
			mod := o.Module
			if mod != dinamoModule {
				mod = "SNMPv2-SMI" // SNMPv2-MIB is not shipped: numeric names for MIB-2
				names = append(names, o.OID+".0")
				continue
			}
			names = append(names, mod+"::"+o.Name+".0")
		}
	}
	out, errs, err = netsnmp(t, "snmpget", append([]string{"-v2c", "-c", "public", addr}, names...)...)
	if err != nil || errs != "" {
		t.Fatalf("snmpget: %v\n%s", err, errs)
	}
	if n := strings.Count(out, "\n"); n != len(names) || strings.Contains(out, "No Such") {
		t.Fatalf("snmpget of %d objects:\n%s", len(names), out)
	}
	for _, want := range []string{"DINAMO-STANDIN-MIB::hsmTamperingState.0 = INTEGER: untampered(0)", "DINAMO-STANDIN-MIB::totalMemory.0 = INTEGER: 100",
		"DINAMO-STANDIN-MIB::diskBockSize.0 = INTEGER: 4096"} {
		if !strings.Contains(out, want) {
			t.Errorf("snmpget output lacks %q:\n%s", want, out)
		}
	}

	// another community gets no answer
	_, errs, err = netsnmp(t, "snmpget", "-v2c", "-c", "private", "-t", "0.5", "-r", "0", addr, "DINAMO-STANDIN-MIB::hsmNodeAlias.0")
	if err == nil || !strings.Contains(errs, "Timeout") {
		t.Errorf("community private: %v %s; want no answer", err, errs)
	}

	// Set is refused and changes nothing
	alias := get(t, m.Device, dinamoTable, "hsmNodeAlias", "").Value
	_, errs, err = netsnmp(t, "snmpset", "-v2c", "-c", "public", addr, "DINAMO-STANDIN-MIB::hsmNodeAlias.0", "s", "changed")
	if err == nil || !strings.Contains(errs, "Error in packet") {
		t.Errorf("snmpset: %v %q; want an error response", err, errs)
	}
	if got := get(t, m.Device, dinamoTable, "hsmNodeAlias", "").Value; got != alias {
		t.Errorf("snmpset changed hsmNodeAlias to %v", got)
	}
}

func TestNetSNMPLuna(t *testing.T) {
	f := startFleet(t, &FleetConfig{Seed: 3, HSMs: []HSMConfig{{Vendor: VendorLuna, Addr: "127.0.0.1:0", Serial: "532018",
		Users: []UserConfig{
			{Name: "ops", Auth: "SHA", AuthPass: "authpass-ops", Priv: "AES", PrivPass: "privpass-ops"},
			{Name: "mon", Auth: "SHA", AuthPass: "authpass-mon"},
			{Name: "pub"},
		}}}})
	m := f.Members()[0]
	addr := "udp:" + m.Addr()
	v3 := func(args ...string) []string {
		return append([]string{"-v3", "-t", "2", "-r", "1"}, args...)
	}
	authPriv := v3("-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "authpass-ops", "-x", "AES", "-X", "privpass-ops")

	out, errs, err := netsnmp(t, "snmpbulkwalk", append(authPriv, "-On", "-Cr25", addr, ".1")...)
	if err != nil || errs != "" {
		t.Fatalf("snmpbulkwalk: %v\n%s", err, errs)
	}
	sameOIDs(t, "snmpbulkwalk -v3 -l authPriv", walkOIDs(t, out), m.Device)
	getEvery(t, m.Device, append(authPriv, addr))
	// the appliance answers SNMPv3 only
	if _, errs, err := netsnmp(t, "snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0", addr, "SNMPv2-SMI::mib-2.1.5.0"); err == nil || !strings.Contains(errs, "Timeout") {
		t.Errorf("v2c to the Luna: %v %s; want no answer", err, errs)
	}
	out, errs, err = netsnmp(t, "snmpwalk", append(v3("-l", "authNoPriv", "-u", "mon", "-a", "SHA", "-A", "authpass-mon", "-On"), addr, ".1")...)
	if err != nil || errs != "" {
		t.Fatalf("snmpwalk authNoPriv: %v\n%s", err, errs)
	}
	sameOIDs(t, "snmpwalk -v3 -l authNoPriv", walkOIDs(t, out), m.Device)
	out, errs, err = netsnmp(t, "snmpget", append(v3("-l", "noAuthNoPriv", "-u", "pub"), addr, "CHRYSALIS-UTSP-MIB::ntlsOperStatus.0")...)
	if err != nil || !strings.Contains(out, "up(1)") {
		t.Fatalf("snmpget noAuthNoPriv: %v %s %s", err, out, errs)
	}

	// wrong keys are rejected as net-snmp rejects them
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong auth passphrase", v3("-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "wrongpass1", "-x", "AES", "-X", "privpass-ops"), "Authentication failure"},
		{"unknown user", v3("-l", "authNoPriv", "-u", "eve", "-a", "SHA", "-A", "authpass-eve"), "Unknown user name"},
		{"level above the user's", v3("-l", "authPriv", "-u", "mon", "-a", "SHA", "-A", "authpass-mon", "-x", "AES", "-X", "privpass-mon"), "Unsupported security level"},
		{"wrong priv passphrase", v3("-l", "authPriv", "-u", "ops", "-a", "SHA", "-A", "authpass-ops", "-x", "AES", "-X", "wrongpass2"), "Decryption error"},
	} {
		_, errs, err := netsnmp(t, "snmpget", append(c.args, addr, "SNMPv2-SMI::mib-2.1.5.0")...)
		if err == nil || !strings.Contains(errs, c.want) {
			t.Errorf("%s: %v %q, want %q", c.name, err, errs, c.want)
		}
	}

	// snmpget of every object by name: scalars .0, hsmTable columns at the HSM's row
	var names []string
	for _, o := range lunaTable.list {
		switch {
		case o.Kind == Scalar && o.Module != "SNMPv2-MIB" && o.Module != "IF-MIB":
			names = append(names, o.Module+"::"+o.Name+".0")
		case o.Kind == Column && strings.HasPrefix(o.OID, hsmEntryOID+"."):
			names = append(names, o.Module+"::"+o.Name+".\"532018\"")
		}
	}
	for i := 0; i < len(names); i += 20 { // keep each request small
		chunk := names[i:min(i+20, len(names))]
		out, errs, err := netsnmp(t, "snmpget", append(append(authPriv, addr), chunk...)...)
		if err != nil || errs != "" || strings.Count(out, "\n") != len(chunk) || strings.Contains(out, "No Such") {
			t.Fatalf("snmpget %v: %v\n%s\n%s", chunk, err, out, errs)
		}
	}

	_, errs, err = netsnmp(t, "snmpset", append(authPriv, addr, "SAFENET-HSM-MIB::hsmLabel.\"532018\"", "s", "changed")...)
	if err == nil || !strings.Contains(errs, "Error in packet") {
		t.Errorf("snmpset: %v %q; want an error response", err, errs)
	}
	if got := get(t, m.Device, lunaTable, "hsmLabel", hsmRow).Value; got == "changed" {
		t.Error("snmpset changed hsmLabel")
	}
}

// trapd is a running snmptrapd whose output the test reads.
type trapd struct {
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
}

func (d *trapd) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.Write(p)
}

func (d *trapd) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// waitFor polls snmptrapd's output until every want is in it (or 10 s pass).
func (d *trapd) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := d.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmptrapd never showed %q; it printed:\n%s", missing, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startTrapd runs snmptrapd in the foreground with the shipped MIBs and conf, on a free
// loopback port, and returns once it listens.
func startTrapd(t *testing.T, conf string) *trapd {
	t.Helper()
	path := needTool(t, "snmptrapd")
	dir := t.TempDir()
	confFile := filepath.Join(dir, "snmptrapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	d := &trapd{addr: addr}
	ctx, cancel := context.WithCancel(context.Background())
	// -f foreground, -Lo log to stdout, -n no name lookups, -C only our conf; persistent
	// state (engine boots, users) in the test's folder.
	cmd := exec.CommandContext(ctx, path, "-f", "-Lo", "-n", "-C", "-c", confFile, "-M", "+"+mibDir(t), "-m", "ALL",
		"--persistentDir="+dir, "udp:"+addr)
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir)
	cmd.Stdout, cmd.Stderr = d, d
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	// snmptrapd prints its version once its transports are open (and "couldn't open"
	// and exits when the port is taken)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.String(), "NET-SNMP version") {
		select {
		case <-exited:
			t.Fatalf("snmptrapd exited:\n%s", d.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmptrapd does not listen on %s:\n%s", addr, d.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

func TestNetSNMPDinamoTraps(t *testing.T) {
	// only traps of community hsmtrap are logged: the HSM must use its trap community
	d := startTrapd(t, "authCommunity log hsmtrap\n")
	f := startFleet(t, &FleetConfig{Seed: 3, HSMs: []HSMConfig{{Vendor: VendorDinamo, Addr: "127.0.0.1:0",
		TrapCommunity: "hsmtrap", TrapTargets: []string{d.addr}}}})
	dev := f.Members()[0].Device
	var want []string
	for _, e := range dinamoEvents {
		if err := dev.Apply(t.Context(), &Step{Trap: &TrapAction{Name: e.Name}}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "DINAMO-STANDIN-MIB::"+e.Name+"\t")
	}
	want = append(want, "DINAMO-STANDIN-MIB::dinamoTrapEventText = STRING: Replication, return from Cannot Start Manager")
	d.waitFor(t, want...)
	if n := strings.Count(d.String(), "OID: DINAMO-STANDIN-MIB::"); n != len(dinamoEvents) {
		t.Errorf("snmptrapd decoded %d Dinamo notifications, want %d:\n%s", n, len(dinamoEvents), d.String())
	}
}

func TestNetSNMPLunaTraps(t *testing.T) {
	serial := "532018"
	engine := append([]byte{0x80, 0x00, 0x30, 0x5f, 0x04}, "luna"+serial...)
	d := startTrapd(t, fmt.Sprintf("createUser -e 0x%s ops SHA authpass-ops AES privpass-ops\nauthUser log ops priv\n", hex.EncodeToString(engine)))
	f := startFleet(t, &FleetConfig{Seed: 3, HSMs: []HSMConfig{{Vendor: VendorLuna, Addr: "127.0.0.1:0", Serial: serial, Hostname: "myLuna",
		TrapTargets: []string{d.addr},
		Users:       []UserConfig{{Name: "ops", Auth: "SHA", AuthPass: "authpass-ops", Priv: "AES", PrivPass: "privpass-ops"}}}}})
	dev := f.Members()[0].Device
	v := 1600.0
	for _, s := range []*Step{
		{Sensor: &SensorAction{Name: "Fan3B", Value: &v}},
		{PSU: &PSUAction{Name: "PSU1", State: "failed"}},
		{Alarm: &AlarmAction{Code: "2007"}},
		{NTLS: &NTLSAction{State: "crash"}},
		{Smart: &SmartAction{Temperature: 49, Limit: 48, Critical: true}},
		{Sensor: &SensorAction{Name: "CPU", Value: ptr(80)}},
		{Reboot: &RebootAction{}},
	} {
		if err := dev.Apply(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	d.waitFor(t,
		"SAFENET-APPLIANCE-MIB::fanAttentionNotify",
		"SAFENET-APPLIANCE-MIB::powerSupplyAttentionNotify",
		"SAFENET-APPLIANCE-MIB::cryptoAttentionNotify",
		"SAFENET-APPLIANCE-MIB::ntlsAttentionNotify",
		"SAFENET-APPLIANCE-MIB::diskDriveAttentionNotify",
		"SAFENET-APPLIANCE-MIB::motherboardAttentionNotify",
		"SAFENET-APPLIANCE-MIB::ssLogReference = STRING: [myLuna:127.0.0.1 / messages / ",
		"/ ipmievd[",
		"/ lunalog / ",
		"OID: SNMPv2-SMI::snmpModules.1.1.5.1", // coldStart (SNMPv2-MIB is not shipped)
	)
	lines := strings.Count(d.String(), "SAFENET-APPLIANCE-MIB::ssLogReference")
	// fan LC; PSU status, +12V, fan; ALM; NTLS; SMART; CPU UC
	if lines != 8 {
		t.Errorf("%d notifications with ssLogReference, want 8:\n%s", lines, d.String())
	}
}

func ptr(v float64) *float64 { return &v }

// TestNetSNMPWalkFleetOfLoopbackAddresses runs HSMs on consecutive loopback addresses
// (step ip) and walks each.
func TestNetSNMPWalkFleetOfLoopbackAddresses(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	f := startFleet(t, &FleetConfig{Seed: 4, HSMs: []HSMConfig{{Vendor: VendorDinamo, Addr: fmt.Sprintf("127.0.0.2:%d", port), Count: 3, Step: "ip"}}})
	var addrs []string
	for _, m := range f.Members() {
		addrs = append(addrs, m.Addr())
		out, errs, err := netsnmp(t, "snmpget", "-v2c", "-c", "public", "udp:"+m.Addr(), "SNMPv2-SMI::mib-2.1.5.0")
		if err != nil || errs != "" || !strings.Contains(out, m.Device.Info().Serial) {
			t.Errorf("%s: %v %s %s", m.Addr(), err, out, errs)
		}
	}
	sort.Strings(addrs)
	if want := fmt.Sprintf("[127.0.0.2:%d 127.0.0.3:%d 127.0.0.4:%d]", port, port, port); fmt.Sprint(addrs) != want {
		t.Errorf("addresses %v, want %s", addrs, want)
	}
}

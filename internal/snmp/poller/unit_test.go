package poller

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

func TestDelta(t *testing.T) {
	const max32 = 1<<32 - 1
	for _, c := range []struct {
		prev, cur uint64
		bits      int
		want      uint64
		ok        bool
	}{
		{10, 25, 32, 15, true},
		{max32 - 5, 4, 32, 10, true},               // wrapped
		{max32, 0, 32, 1, true},                    // wrapped by one
		{1 << 31, 0, 32, 0, false},                 // back by half the range: not a wrap
		{3_000_000_000, 100, 32, 1294967396, true}, // wrapped, under half the range
		{1 << 40, 1 << 39, 64, 0, false},           // Counter64 back: discontinuity
		{5, 5, 64, 0, true},
		{1000, 10, 0, 0, false}, // a gauge that fell
		{1 << 33, 5, 32, 0, false},
	} {
		got, ok := delta(c.prev, c.cur, c.bits)
		if got != c.want || ok != c.ok {
			t.Errorf("delta(%d, %d, %d) = %d %v, want %d %v", c.prev, c.cur, c.bits, got, ok, c.want, c.ok)
		}
	}
}

func TestRateFrom(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	prev := &reading{Value: 100, Bits: 64, Time: at(0)}
	for _, c := range []struct {
		prev      *reading
		cur       reading
		restarted bool
		rate      float64
		why       string
	}{
		{nil, reading{Value: 5, Bits: 64, Time: at(60)}, false, 0, "first reading"},
		{prev, reading{Value: 160, Bits: 64, Time: at(60)}, false, 1, ""},
		{prev, reading{Value: 160, Bits: 64, Time: at(60)}, true, 0, "restarted"},
		{prev, reading{Value: 50, Bits: 64, Time: at(60)}, false, 0, "discontinuity"},
		{prev, reading{Value: 160, Bits: 64, Time: at(0)}, false, 0, "no time"},
		{prev, reading{Value: 160, Bits: 32, Time: at(60)}, false, 0, "changed type"},
		{&reading{Value: 900, Time: at(0)}, reading{Value: 10, Time: at(30)}, false, 0, "truncated"},
	} {
		rate, why := rateFrom(c.prev, c.cur, c.restarted)
		if rate != c.rate || (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("rateFrom(%+v, %+v, %v) = %v %q, want %v %q", c.prev, c.cur, c.restarted, rate, why, c.rate, c.why)
		}
		if rate < 0 {
			t.Errorf("negative rate")
		}
	}
	if why, back := uptimeWentBack(map[string]uint64{"sysUpTime": 500, "hsmUpTime.1": 9}, map[string]uint64{"sysUpTime": 600, "hsmUpTime.1": 2}); !back || !strings.Contains(why, "hsmUpTime.1 went back from 9 to 2") {
		t.Errorf("uptimeWentBack: %q %v", why, back)
	}
	if _, back := uptimeWentBack(map[string]uint64{"sysUpTime": 500}, map[string]uint64{"sysUpTime": 600, "new": 1}); back {
		t.Error("uptime forward is no restart")
	}
}

// TestShippedProfiles: the profiles parse, and with the project's MIBs every object
// they name resolves (to the kind it is used as); with the built-in names only, what
// is missing is said.
func TestShippedProfiles(t *testing.T) {
	ps := ShippedProfiles()
	if got := ps.Names(); !reflect.DeepEqual(got, []string{"dinamo", "generic", "luna-network", "luna-pcie-host"}) {
		t.Fatalf("profiles %v", got)
	}
	if time.Duration(ps[ProfileLunaNetwork].Interval) != time.Minute || time.Duration(ps[ProfileLunaPCIeHost].Interval) != time.Minute {
		t.Error("Luna agents cache their tables 60 s: their interval is 60 s")
	}
	tb := projectMIBs(t)
	for _, name := range ps.Names() {
		pl := newPlan(ps[name], tb)
		if len(pl.notes) > 0 || len(pl.missing) > 0 {
			t.Errorf("%s with the project's MIBs: notes %v missing %v", name, pl.notes, pl.missing)
		}
		if len(pl.get) == 0 {
			t.Errorf("%s: nothing to get", name)
		}
	}
	bare := mib.Builtin()
	for name, want := range map[string]string{
		ProfileLunaNetwork: "SAFENET-HSM-MIB::hsmPartitionTable is not in the loaded MIBs (load the vendor's SAFENET-HSM-MIB with --mibs DIR)",
		ProfileDinamo:      "Dinamo-MIB.txt",
	} {
		pl := newPlan(ps[name], bare)
		if !strings.Contains(strings.Join(pl.notes, "\n"), want) {
			t.Errorf("%s with built-in names: notes %v, want %q", name, pl.notes, want)
		}
	}
	if pl := newPlan(ps[ProfileGeneric], bare); len(pl.notes) > 0 {
		t.Errorf("generic needs no MIB file: %v", pl.notes)
	}
	// the partition table's columns are named by the loaded MIB only: without it the
	// HSM-level items still resolve
	if pl := newPlan(ps[ProfileLunaNetwork], bare); pl.objs["SAFENET-HSM-MIB::hsmStorageTotalBytes"] == nil {
		t.Error("hsmTable columns are public: they resolve without a MIB file")
	}
}

func TestParseProfilesErrors(t *testing.T) {
	head := "profiles:\n  p:\n    interval: 60s\n    scalars: [SNMPv2-MIB::sysUpTime]\n"
	for _, c := range []struct{ yaml, want string }{
		{"profiles: {}\n", "none defined"},
		{"profiles:\n  p:\n    scalars: []\n", "no interval"},
		{"profiles:\n  p:\n    interval: soon\n", "not a positive duration"},
		{head + "    healt: []\n", "field healt not found"},
		{head + "    health:\n      - {id: a, title: A, compute: value, value: SNMPv2-MIB::sysName}\n", "not polled"},
		{head + "    health:\n      - {id: a, title: A, compute: mean, value: SNMPv2-MIB::sysUpTime}\n", "compute \"mean\""},
		{head + "    health:\n      - {id: a, title: A, compute: ratio, value: SNMPv2-MIB::sysUpTime}\n", "value and total"},
		{head + "    health:\n      - {id: 'a b', title: A, compute: value, value: SNMPv2-MIB::sysUpTime}\n", "id \"a b\""},
		{head + "    health:\n      - {id: a, title: A, compute: value, value: SNMPv2-MIB::sysUpTime, warn: '10:5'}\n", "start 10 is greater"},
		{head + "    health:\n      - {id: a, title: A, compute: value, value: SNMPv2-MIB::sysUpTime}\n      - {id: a, title: B, compute: value, value: SNMPv2-MIB::sysUpTime}\n", "defined twice"},
		{head + "    views: [{title: T, table: SAFENET-HSM-MIB::hsmTable}]\n", "not walked"},
	} {
		_, err := ParseProfiles([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestParseThresholdFlag(t *testing.T) {
	for _, c := range []struct {
		in, id     string
		warn, crit *string
		err        string
	}{
		{"battery=50:,25:", "battery", ptr("50:"), ptr("25:"), ""},
		{"battery=40:", "battery", ptr("40:"), nil, ""},
		{"ntls_status=,@2:2", "ntls_status", ptr(""), ptr("@2:2"), ""},
		{" disk_used = 70 , 85 ", "disk_used", ptr("70"), ptr("85"), ""},
		{"battery", "", nil, nil, "ID=WARN,CRIT"},
		{"=1,2", "", nil, nil, "ID=WARN,CRIT"},
		{"battery=x,2", "", nil, nil, "warning threshold"},
	} {
		id, th, err := ParseThresholdFlag(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || id != c.id || !reflect.DeepEqual(th.Warn, c.warn) || !reflect.DeepEqual(th.Crit, c.crit) {
			t.Errorf("%q: %s %v %v %v", c.in, id, deref(th.Warn), deref(th.Crit), err)
		}
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestDescribeRange(t *testing.T) {
	for in, want := range map[string]string{
		"80": "above 80", "25:": "below 25", "~:10": "above 10", "@2:2": "equal to 2", "1:1": "not 1",
		"10:20": "outside 10..20", "@10:20": "between 10 and 20", "@~:3": "between -inf and 3",
	} {
		if got := describeRange(in); got != want {
			t.Errorf("describeRange(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIndexText(t *testing.T) {
	for in, want := range map[string]string{
		"6.53.51.50.48.49.56":                 "532018",
		"6.53.51.50.48.49.56.4.112.97.114.48": "532018/par0",
		"1":                                   "1",
		"3.1.2":                               "3.1.2", // too short for its length
		"2.1.200":                             "2.1.200",
	} {
		if got := indexText(in); got != want {
			t.Errorf("indexText(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestStateFile: what a check saves, the next run restores, and rates continue across
// the two processes; a state of another HSM is refused.
func TestStateFile(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	tg := lunaTarget(f.Members()[0].Addr())
	tb := projectMIBs(t)
	path := filepath.Join(t.TempDir(), "state.json")
	if _, found, err := LoadState(path); found || err != nil {
		t.Fatalf("missing file: %v %v", found, err)
	}
	first := newPoller(t, Options{Target: tg, MIB: tb, Now: clock.Now})
	poll(t, first)
	if err := SaveState(path, first.State()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), lunaAuth) || strings.Contains(string(data), lunaPriv) {
		t.Errorf("the state file shows a passphrase: %s", data)
	}
	clock.Add(time.Minute)
	second := newPoller(t, Options{Target: tg, MIB: tb, Now: clock.Now})
	s, found, err := LoadState(path)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if err := second.Restore(s); err != nil {
		t.Fatal(err)
	}
	if it := item(t, poll(t, second), "operation_rate"); it.State != StateOK || it.Value < 5 {
		t.Errorf("the rate after a restored state: %+v", it)
	}
	other := newPoller(t, Options{Target: Target{Addr: "127.0.0.1:9", Community: "public"}})
	if err := other.Restore(s); err == nil || !strings.Contains(err.Error(), "not 127.0.0.1:9 v2c") {
		t.Errorf("restore of another HSM's state: %v", err)
	}
}

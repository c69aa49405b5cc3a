package poller

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
)

// TestDetect: each kind of agent gets its profile from what it serves. The Luna and the
// PCIe host both answer with net-snmp's generic sysObjectID, so that proves nothing.
func TestDetect(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig(), lunaConfig())
	dinamo, luna := f.Members()[0], f.Members()[1]

	// A PCIe host: luna-snmp serves the HSM tables, but no NTLS runs on a host. The
	// Luna model's tree without NTLS is that agent.
	host := sim.NewLuna(sim.LunaConfig{Serial: "654321", Clock: clock, Users: []agent.User{{Name: "nobody"}}})
	host.Tree().DeletePrefix(".1.3.6.1.4.1.12383.3.1.2")
	hostAddr := agentFor(t, agent.Config{Communities: []string{"public"}, Tree: host.Tree()})
	// An agent with only MIB-2: the Dinamo model without its enterprise subtree.
	plain := sim.NewDinamo(sim.DinamoConfig{Serial: "TCA0000077", Clock: clock})
	plain.Tree().DeletePrefix(dinamoEnterprise)
	plainAddr := agentFor(t, agent.Config{Communities: []string{"public"}, Tree: plain.Tree()})

	tb := projectMIBs(t)
	for _, c := range []struct {
		target Target
		want   string
		reason string
	}{
		{dinamoTarget(dinamo.Addr()), ProfileDinamo, "enterprise 41054"},
		{lunaTarget(luna.Addr()), ProfileLunaNetwork, "ntlsOperStatus.0 answers"},
		{dinamoTarget(hostAddr), ProfileLunaPCIeHost, "hsmTable has a row"},
		{dinamoTarget(plainAddr), ProfileGeneric, "no NTLS"},
	} {
		p := newPoller(t, Options{Target: c.target, MIB: tb, Now: clock.Now})
		r := poll(t, p)
		if r.Profile != c.want || r.Detection == nil || !strings.Contains(r.Detection.Reason, c.reason) {
			t.Errorf("%s: profile %s (%+v), want %s (%q)", c.target, r.Profile, r.Detection, c.want, c.reason)
		}
		if r.Status != check.OK {
			t.Errorf("%s: status %s, notes %v, items %+v", c.target, r.Status, r.Notes, r.Items)
		}
		if len(r.Notes) > 0 {
			t.Errorf("%s: notes %v (every object of the profile should resolve with the project's MIBs)", c.target, r.Notes)
		}
	}
}

// TestDinamoValues: what the poller reports is what the simulator serves.
func TestDinamoValues(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	m := f.Members()[0]
	tb := projectMIBs(t)
	p := newPoller(t, Options{Target: dinamoTarget(m.Addr()), MIB: tb, Now: clock.Now})
	for i := 0; i < 2; i++ { // values move with the clock: check two instants
		clock.Add(37 * time.Second)
		r := poll(t, p)
		tv := func(name string) float64 { return treeValue(t, m.Device, tb, "DINAMO-STANDIN-MIB::"+name+".0") }
		free, total := tv("diskFreeBlockCount"), tv("diskBlockCount")
		for key, want := range map[string]float64{
			"disk_used":   100 * (total - free) / total,
			"battery":     tv("hsmCryptoBattery"),
			"tamper":      tv("hsmTamperingState"),
			"memory_used": tv("usedMemory"),
			"cpu_load":    tv("cpuLoadAverage"),
			"sessions":    tv("sessionCount"),
			"objects":     tv("objCount"),
		} {
			if got := item(t, r, key); got.Value != want || got.State != StateOK {
				t.Errorf("%s = %v (%s), the simulator serves %v", key, got.Value, got.State, want)
			}
		}
		if r.Host != "TCA0000042" || r.Identity[1] != (Field{"alias", "dinamo1"}) {
			t.Errorf("host %q identity %+v", r.Host, r.Identity)
		}
		found := false
		for _, s := range r.Samples {
			if s.Name == "logSize" {
				found = s.Value == tv("logSize") && s.Kind == Gauge
			}
		}
		if !found {
			t.Errorf("no logSize sample with the served value")
		}
	}
}

// TestLunaValues: the HSM table, the partitions, the NTLS objects and the rates.
func TestLunaValues(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	m := f.Members()[0]
	tb := projectMIBs(t)
	p := newPoller(t, Options{Target: lunaTarget(m.Addr()), MIB: tb, Now: clock.Now})
	r1 := poll(t, p)
	hsm := "." + stringIndex(lunaSerial)
	tv := func(name string) float64 { return treeValue(t, m.Device, tb, name) }
	if got, want := item(t, r1, "hsm_storage_used:"+lunaSerial).Value,
		100*tv("SAFENET-HSM-MIB::hsmStorageAllocatedBytes"+hsm)/tv("SAFENET-HSM-MIB::hsmStorageTotalBytes"+hsm); got != want {
		t.Errorf("hsm_storage_used = %v, want %v", got, want)
	}
	for label, pct := range map[string]float64{"par0": 25, "par1": 50, "par2": 12.5} {
		if it := item(t, r1, "partition_storage_used:"+label); math.Abs(it.Value-pct) > 1e-9 || it.State != StateOK {
			t.Errorf("%s: %+v, want %v%%", label, it, pct)
		}
	}
	if it := item(t, r1, "ntls_status"); it.Text != "up(1)" || it.State != StateOK {
		t.Errorf("ntls_status %+v", it)
	}
	if it := item(t, r1, "admin_login_attempts_left:"+lunaSerial); it.Value != 3 || it.State != StateOK {
		t.Errorf("admin attempts %+v", it)
	}
	if it := item(t, r1, "operation_error_rate"); it.State != StatePending {
		t.Errorf("a rate at the first poll: %+v", it)
	}
	if len(r1.Views) != 1 || len(r1.Views[0].Rows) != 3 || r1.Views[0].Rows[0][0] != "par0" || r1.Views[0].Rows[0][2] != "true(1)" {
		t.Errorf("partition view %+v", r1.Views)
	}
	want := []Field{{"host", "myLuna"}, {"serial", lunaSerial}, {"model", "Luna K7"}, {"firmware", "7.7.1"},
		{"label", "myLuna-hsm"}, {"software", "7.8.4"}}
	if !reflect.DeepEqual(r1.Identity[:len(want)], want) {
		t.Errorf("identity %+v", r1.Identity)
	}

	reqs0, errs0 := tv("CHRYSALIS-UTSP-MIB::hsmOperationRequests.0"), tv("CHRYSALIS-UTSP-MIB::hsmOperationErrors.0")
	clock.Add(time.Minute)
	r2 := poll(t, p)
	reqs1, errs1 := tv("CHRYSALIS-UTSP-MIB::hsmOperationRequests.0"), tv("CHRYSALIS-UTSP-MIB::hsmOperationErrors.0")
	if got, want := item(t, r2, "operation_rate").Value, (reqs1-reqs0)/60; math.Abs(got-want) > 1e-9 || got < 5 {
		t.Errorf("operation_rate = %v, want %v", got, want)
	}
	if it := item(t, r2, "operation_error_rate"); math.Abs(it.Value-(errs1-errs0)/60) > 1e-9 || it.State != StateOK {
		t.Errorf("operation_error_rate %+v, want %v (the appliance's own baseline is fine)", it, (errs1-errs0)/60)
	}
	if len(r2.Events) != 0 || len(r1.Events) != 0 {
		t.Errorf("a healthy HSM sends no events: %v %v", r1.Events, r2.Events)
	}
}

// TestDinamoBatteryScenario: the battery runs down and is replaced. The item goes ok,
// warning, critical, ok; the events are one assert per worsening and one clear, and
// through the catalog and the state tracker they open, repeat and close one alarm.
func TestDinamoBatteryScenario(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	m := f.Members()[0]
	sc := playScenario(t, clock, m.Device, `
vendor: dinamo
steps:
  - {at: 1m, battery: {percent: 40}}
  - {at: 2m, battery: {percent: 20}}
  - {at: 3m, battery: {percent: 5}}
  - {at: 4m, battery: {percent: 98}}
`)
	p := newPoller(t, Options{Target: dinamoTarget(m.Addr()), MIB: projectMIBs(t), Now: clock.Now})
	pl := newPipeline(t)
	var states []string
	var steps []step
	for i := 0; i <= 5; i++ {
		sc.at(time.Duration(i) * time.Minute)
		r := poll(t, p)
		states = append(states, item(t, r, "battery").State)
		steps = append(steps, pl.feed(t, r.Events)...)
		if i == 2 {
			ev := r.Events[0]
			if ev.Fields.Text("metric") != "battery" || ev.Fields.Text("value") != "20" || ev.Fields.Text("threshold") != "25:" ||
				ev.Fields.Text("state") != "critical" || ev.Host != "TCA0000042" || ev.Source != event.SourceSNMPPoll ||
				ev.Message != "tamper battery charge is 20% (critical when below 25)" {
				t.Errorf("critical event: %s %v %q", ev.Host, ev.Fields, ev.Message)
			}
		}
	}
	if want := []string{"ok", "warning", "critical", "critical", "ok", "ok"}; !reflect.DeepEqual(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	want := []step{
		{"snmppoll.battery", event.True, "opened"},
		{"snmppoll.battery.critical", event.True, "repeated"},
		{"snmppoll.battery", event.False, "cleared"},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("events became %+v, want %+v", steps, want)
	}
	if len(pl.tracker.Active()) != 0 {
		t.Errorf("alarms left open: %+v", pl.tracker.Active())
	}
}

// TestLunaPartitionFilling plays the shipped scenario (40 objects and 256 KiB every
// 30 s into par0) and then frees the partition: warning, critical, clear.
func TestLunaPartitionFilling(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	m := f.Members()[0]
	r := shippedScenario(t, clock, m.Device, "luna-partition-filling")
	free := playScenario(t, clock, m.Device, "vendor: luna\nsteps:\n  - {at: 10m, partition: {partition: par0, grow: -4194304, objects: -1000}}\n")
	p := newPoller(t, Options{Target: lunaTarget(m.Addr()), MIB: projectMIBs(t), Now: clock.Now})
	pl := newPipeline(t)
	var got []string
	var steps []step
	for i := 0; i <= 11; i++ { // one poll a minute: the Luna's interval
		free.at(time.Duration(i) * time.Minute)
		r.at(time.Duration(i) * time.Minute)
		res := poll(t, p)
		it := item(t, res, "partition_storage_used:par0")
		got = append(got, it.Text+" "+it.State)
		steps = append(steps, pl.feed(t, res.Events)...)
		for _, other := range []string{"par1", "par2"} {
			if item(t, res, "partition_storage_used:"+other).State != StateOK {
				t.Errorf("%s changed", other)
			}
		}
	}
	// 1 MiB used at start, 512 KiB more each minute, full after 6 minutes; freed at 10m.
	want := []string{"25% ok", "37.5% ok", "50% ok", "62.5% ok", "75% ok", "87.5% warning", "100% critical",
		"100% critical", "100% critical", "100% critical", "0% ok", "0% ok"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("par0:\n got %v\nwant %v", got, want)
	}
	wantSteps := []step{
		{"snmppoll.partition-storage", event.True, "opened"},
		{"snmppoll.partition-storage.critical", event.True, "repeated"},
		{"snmppoll.partition-storage", event.False, "cleared"},
	}
	if !reflect.DeepEqual(steps, wantSteps) {
		t.Errorf("events became %+v, want %+v", steps, wantSteps)
	}
}

// TestLunaNTLSCrash: the shipped scenario crashes NTLS at 30 s and starts it at 90 s.
func TestLunaNTLSCrash(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	m := f.Members()[0]
	r := shippedScenario(t, clock, m.Device, "luna-ntls-crash")
	p := newPoller(t, Options{Target: lunaTarget(m.Addr()), MIB: projectMIBs(t), Now: clock.Now})
	pl := newPipeline(t)
	var states []string
	var steps []step
	var status []check.Status
	for i := 0; i <= 3; i++ {
		r.at(time.Duration(i) * time.Minute)
		res := poll(t, p)
		it := item(t, res, "ntls_status")
		states = append(states, it.Text+" "+it.State)
		status = append(status, res.Status)
		steps = append(steps, pl.feed(t, res.Events)...)
	}
	if want := []string{"up(1) ok", "notRunning(2) critical", "up(1) ok", "up(1) ok"}; !reflect.DeepEqual(states, want) {
		t.Errorf("ntls_status %v, want %v", states, want)
	}
	if want := []check.Status{check.OK, check.Critical, check.OK, check.OK}; !reflect.DeepEqual(status, want) {
		t.Errorf("poll status %v", status)
	}
	want := []step{{"snmppoll.ntls-status.critical", event.True, "opened"}, {"snmppoll.ntls-status", event.False, "cleared"}}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("events became %+v, want %+v", steps, want)
	}
}

// TestLunaRebootResetsCounters: the shipped reboot scenario restarts the appliance at
// 5m: sysUpTime, hsmUpTime and the CHRYSALIS counters start again from zero. The poll
// after it computes no rate (a restart event says why), the one after that resumes,
// and no rate is ever negative or huge.
func TestLunaRebootResetsCounters(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	m := f.Members()[0]
	r := shippedScenario(t, clock, m.Device, "luna-reboot")
	p := newPoller(t, Options{Target: lunaTarget(m.Addr()), MIB: projectMIBs(t), Now: clock.Now})
	pl := newPipeline(t)
	var states []string
	for i := 0; i <= 7; i++ {
		r.at(time.Duration(i) * time.Minute)
		res := poll(t, p)
		it := item(t, res, "operation_rate")
		states = append(states, it.State)
		if it.Known() && (it.Value < 5 || it.Value > 20) {
			t.Errorf("poll %d: operation rate %v (the simulator does about 12.3/s)", i, it.Value)
		}
		for _, x := range res.Items {
			if x.Unit == "/s" && x.Known() && (x.Value < 0 || x.Value > 100) {
				t.Errorf("poll %d: %s = %v", i, x.Key, x.Value)
			}
		}
		steps := pl.feed(t, res.Events)
		if i == 5 {
			if len(steps) != 1 || steps[0].rule != "snmppoll.restart" || steps[0].assert != event.Unset {
				t.Errorf("restart poll: events %+v", steps)
			}
			if len(res.Notes) == 0 || !strings.Contains(strings.Join(res.Notes, " "), "went back") {
				t.Errorf("restart poll: notes %v", res.Notes)
			}
			if it.Reason == "" || !strings.Contains(it.Reason, "restarted") {
				t.Errorf("restart poll: %+v", it)
			}
		} else if len(steps) != 0 {
			t.Errorf("poll %d: events %+v", i, steps)
		}
	}
	want := []string{"pending", "ok", "ok", "ok", "ok", "pending", "ok", "ok"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("operation_rate states %v, want %v", states, want)
	}
}

// TestCounterWrapAndDiscontinuity drives a Counter32 across its wrap and back by more
// than half its range, and a Counter64 backwards without a restart, through a profile
// of the test's own (profiles are data) against the simulator's served values.
func TestCounterWrapAndDiscontinuity(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	m := f.Members()[0]
	profiles, err := ParseProfiles([]byte(`
profiles:
  counters:
    interval: 60s
    scalars: [SNMPv2-MIB::sysUpTime, CHRYSALIS-UTSP-MIB::hsmOperationErrors]
    tables: [SAFENET-HSM-MIB::hsmTable]
    uptime: [SNMPv2-MIB::sysUpTime]
    health:
      - {id: c32, title: counter32, unit: /s, compute: rate, value: SAFENET-HSM-MIB::hsmAdminLoginAttempts, label: SAFENET-HSM-MIB::hsmSerialNumber}
      - {id: c64, title: counter64, unit: /s, compute: rate, value: CHRYSALIS-UTSP-MIB::hsmOperationErrors}
`))
	if err != nil {
		t.Fatal(err)
	}
	idx := stringIndex(lunaSerial)
	set := func(c32 uint64, c64 uint64) {
		for _, s := range []*sim.Step{
			{Set: &sim.SetAction{Object: "hsmAdminLoginAttempts", Index: idx, Value: c32}},
			{Set: &sim.SetAction{Object: "hsmOperationErrors", Value: c64}},
		} {
			if err := m.Device.Apply(t.Context(), s); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := newPoller(t, Options{Target: lunaTarget(m.Addr()), MIB: projectMIBs(t), Profile: "counters", Profiles: profiles, Now: clock.Now})
	var got []string
	for _, c := range []struct{ c32, c64 uint64 }{
		{4294967290, 1 << 40},     // baseline
		{5, 1<<40 + 600},          // Counter32 wrapped: 11 in 60 s; Counter64 +600
		{2147483650, 1<<40 + 600}, // Counter32 +2147483645: a big step forward is a rate
		{3, 1 << 39},              // Counter32 back by more than half: a discontinuity; Counter64 back
		{63, 1<<39 + 60},          // new baseline from there
	} {
		set(c.c32, c.c64)
		res := poll(t, p)
		for _, key := range []string{"c32:" + lunaSerial, "c64"} {
			it := item(t, res, key)
			if it.State == StatePending {
				got = append(got, key[:3]+" pending")
			} else {
				got = append(got, key[:3]+" "+it.Text)
			}
		}
		clock.Add(time.Minute)
	}
	want := []string{
		"c32 pending", "c64 pending",
		"c32 0.183/s", "c64 10/s",
		"c32 35791394.083/s", "c64 0/s",
		"c32 pending", "c64 pending",
		"c32 1/s", "c64 1/s",
	}
	// 35791394.083 rounds to one decimal above 100: the formatter keeps one
	want[4] = "c32 35791394.1/s"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rates:\n got %v\nwant %v", got, want)
	}
}

// TestDinamoWithoutMIB: without a MIB naming the Dinamo objects the poller still finds
// the profile (by the enterprise number), says what is missing, and judges nothing.
func TestDinamoWithoutMIB(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	p := newPoller(t, Options{Target: dinamoTarget(f.Members()[0].Addr()), Now: clock.Now}) // built-in names only
	r := poll(t, p)
	if r.Profile != ProfileDinamo || r.Status != check.Unknown || r.State != StateUnknown {
		t.Fatalf("profile %s status %s", r.Profile, r.Status)
	}
	if len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "Dinamo-MIB.txt") || !strings.Contains(r.Notes[0], "--mibs") {
		t.Errorf("notes %v", r.Notes)
	}
	for _, it := range r.Items {
		if it.State != StateUnknown || !strings.Contains(it.Reason, "no loaded MIB names") {
			t.Errorf("%+v", it)
		}
	}
	if r.Host != "TCA0000042" {
		t.Errorf("the system group needs no MIB: host %q", r.Host)
	}
}

// TestThresholdOverrides: configured thresholds replace the profile's.
func TestThresholdOverrides(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	warn, crit := "20", ""
	p := newPoller(t, Options{Target: lunaTarget(f.Members()[0].Addr()), MIB: projectMIBs(t), Now: clock.Now,
		Thresholds: map[string]Thresholds{"partition_storage_used": {Warn: &warn, Crit: &crit}}})
	r := poll(t, p)
	for label, state := range map[string]string{"par0": "warning", "par1": "warning", "par2": "ok"} {
		if it := item(t, r, "partition_storage_used:"+label); it.State != state || it.Warn != "20" || it.Crit != "" {
			t.Errorf("%s: %+v, want %s", label, it, state)
		}
	}
	if r.Status != check.Warning || len(r.Events) != 2 {
		t.Errorf("status %s, %d events", r.Status, len(r.Events))
	}
	if _, err := New(Options{Target: lunaTarget("127.0.0.1:1"), Thresholds: map[string]Thresholds{"batery": {Warn: &warn}}}); err == nil ||
		!strings.Contains(err.Error(), "batery") || !strings.Contains(err.Error(), "battery") {
		t.Errorf("a misspelt item: %v", err)
	}
}

// TestResultJSON: the result is JSON with the items' states as words and the events in
// the event schema.
func TestResultJSON(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	m := f.Members()[0]
	sc := playScenario(t, clock, m.Device, "vendor: dinamo\nsteps:\n  - {at: 0s, battery: {percent: 10}}\n")
	sc.at(0)
	r := poll(t, newPoller(t, Options{Target: dinamoTarget(m.Addr()), MIB: projectMIBs(t), Now: clock.Now}))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Profile string
		State   string
		Items   []struct{ ID, State string }
		Events  []map[string]any
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Profile != "dinamo" || back.State != "critical" || len(back.Events) != 1 || back.Events[0]["source"] != "snmp-poll" ||
		back.Events[0]["assert"] != true || back.Items[1].ID != "battery" || back.Items[1].State != "critical" {
		t.Errorf("%s", b)
	}
}

// TestRun polls repeatedly at the configured interval until the context ends.
func TestRun(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	p := newPoller(t, Options{Target: dinamoTarget(f.Members()[0].Addr()), MIB: projectMIBs(t), Interval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	err := p.Run(ctx, func(r *Result, err error) {
		if err != nil || r.Profile != ProfileDinamo {
			t.Errorf("poll %d: %v %v", n, r, err)
		}
		if n++; n == 3 {
			cancel()
		}
	})
	if err != nil || n != 3 {
		t.Errorf("Run: %v after %d polls", err, n)
	}
}

package poller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// The tests poll simulated HSMs (internal/sim) over real UDP sockets on loopback: a
// Dinamo answering v2c with community public, a Luna answering SNMPv3 user ops with SHA
// and AES. The simulators read a Manual clock, so the tests move time and see exactly
// the values of that instant; the poller reads the same clock for its rates.

var t0 = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

const (
	lunaUser = "ops"
	lunaAuth = "auth-pass-4711"
	lunaPriv = "priv-pass-0815"
)

// lunaSerial fixes the Luna's serial, so that its table rows have a known index.
const lunaSerial = "532018"

// testFleet runs hsms until the test ends and returns the fleet.
func testFleet(t *testing.T, clock sim.Clock, hsms ...sim.HSMConfig) *sim.Fleet {
	t.Helper()
	return benchFleet(t, clock, hsms...)
}

func benchFleet(t testing.TB, clock sim.Clock, hsms ...sim.HSMConfig) *sim.Fleet {
	t.Helper()
	no := false
	f, err := sim.NewFleet(&sim.FleetConfig{Seed: 7, Activity: &no, HSMs: hsms}, sim.FleetOptions{Clock: clock})
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

func dinamoConfig() sim.HSMConfig {
	return sim.HSMConfig{Vendor: sim.VendorDinamo, Addr: "127.0.0.1:0", Name: "dinamo1", Serial: "TCA0000042"}
}

// lunaConfig is a Luna with three partitions of 4 MiB, par0 a quarter full.
func lunaConfig(users ...sim.UserConfig) sim.HSMConfig {
	if len(users) == 0 {
		users = []sim.UserConfig{{Name: lunaUser, Auth: "SHA", AuthPass: lunaAuth, Priv: "AES", PrivPass: lunaPriv}}
	}
	const mib4 = 4 << 20
	return sim.HSMConfig{Vendor: sim.VendorLuna, Addr: "127.0.0.1:0", Name: "luna1", Hostname: "myLuna",
		Serial: lunaSerial, Users: users, Partitions: []sim.PartitionConfig{
			{Serial: lunaSerial + "000011", Label: "par0", TotalBytes: mib4, UsedBytes: mib4 / 4, Objects: 400},
			{Serial: lunaSerial + "000012", Label: "par1", TotalBytes: mib4, UsedBytes: mib4 / 2, Objects: 800},
			{Serial: lunaSerial + "000013", Label: "par2", TotalBytes: mib4, UsedBytes: mib4 / 8, Objects: 200},
		}}
}

func dinamoTarget(addr string) Target { return Target{Addr: addr, Community: "public"} }

func lunaTarget(addr string) Target {
	return Target{Addr: addr, User: lunaUser, AuthProto: "SHA", AuthPass: lunaAuth, PrivProto: "AES", PrivPass: lunaPriv}
}

// projectMIBs is the built-in table with the project's mibs/ loaded, as an operator
// with --mibs mibs has it.
func projectMIBs(t testing.TB) *mib.Table {
	t.Helper()
	tb := mib.Builtin()
	if err := tb.Load("../../../mibs"); err != nil {
		t.Fatal(err)
	}
	return tb
}

func newPoller(t *testing.T, o Options) *Poller {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func poll(t *testing.T, p *Poller) *Result {
	t.Helper()
	r, err := p.Poll(t.Context())
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return r
}

// item returns the result's item with key.
func item(t *testing.T, r *Result, key string) Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Key == key {
			return it
		}
	}
	var keys []string
	for _, it := range r.Items {
		keys = append(keys, it.Key)
	}
	t.Fatalf("no item %s in %v", key, keys)
	return Item{}
}

// treeValue reads what the simulator serves for a MIB name with instance, as a number.
func treeValue(t *testing.T, dev sim.Device, tb *mib.Table, name string) float64 {
	t.Helper()
	oid, ok := tb.Resolve(name)
	if !ok {
		t.Fatalf("%s does not resolve", name)
	}
	v, ok := dev.Tree().Get(oid)
	if !ok {
		t.Fatalf("the simulator does not serve %s (%s)", name, oid)
	}
	f, _ := gosnmp.ToBigInt(v.Value).Float64()
	return f
}

// stringIndex is a DisplayString table index: its length, then one arc per byte.
func stringIndex(s string) string {
	var b strings.Builder
	b.WriteString(itoa(len(s)))
	for i := 0; i < len(s); i++ {
		b.WriteString("." + itoa(int(s[i])))
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// scenario plays a scenario on one device with the Manual clock, from start.
type scenario struct {
	t      *testing.T
	clock  *sim.Manual
	runner *sim.Runner
}

func playScenario(t *testing.T, clock *sim.Manual, dev sim.Device, yamlText string) *scenario {
	t.Helper()
	sc, err := sim.ParseScenario("test", []byte(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.NewRunner(dev, clock.Now(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return &scenario{t: t, clock: clock, runner: r}
}

// shippedScenario plays one of the simulator's shipped scenarios (sim.LoadScenario)
// on dev, from the clock's time now.
func shippedScenario(t *testing.T, clock *sim.Manual, dev sim.Device, name string) *scenario {
	t.Helper()
	sc, err := sim.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.NewRunner(dev, clock.Now(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return &scenario{t: t, clock: clock, runner: r}
}

// at moves the clock to start+d and applies the steps due.
func (s *scenario) at(d time.Duration) {
	s.t.Helper()
	s.clock.Set(t0.Add(d))
	if err := s.runner.RunUntil(s.t.Context(), s.clock.Now()); err != nil {
		s.t.Fatal(err)
	}
}

// pipeline classifies events with the shipped catalog and feeds the state tracker, as
// hsmwatch's pipeline does.
type pipeline struct {
	cat     *classify.Catalog
	tracker *state.Tracker
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{cat: cat, tracker: tr}
}

// step is what one event became: its rule, assert and the alarm change.
type step struct {
	rule   string
	assert event.Tri
	change string
}

func (p *pipeline) feed(t *testing.T, evs []event.Event) []step {
	t.Helper()
	var out []step
	for i := range evs {
		ev := evs[i]
		r := p.cat.Classify(&ev)
		if r == nil {
			t.Fatalf("no rule classifies %s", ev.Raw)
		}
		d := p.tracker.Observe(&ev)
		out = append(out, step{rule: r.ID, assert: ev.Assert, change: d.Change.String()})
	}
	return out
}

// agentFor starts a bare agent serving tree, for devices the fleet does not build.
func agentFor(t *testing.T, cfg agent.Config) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a.Addr().String()
}

package poll

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// freeUDP returns a loopback UDP address nothing listens on (yet).
func freeUDP(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// An HSM polled without name that does not answer at start is one HSM from its first
// failure to its recovery: the alarm opens under its address, moves to its sysName when
// the first answer names it, and the recovery closes it there; a later failure is
// recorded under the name.
func TestUnnamedHSMOneIdentity(t *testing.T) {
	addr := freeUDP(t)
	secrets := map[string]string{"AUTH": "ops-auth-pass", "PRIV": "ops-priv-pass"}
	spec := &Spec{Host: addr, Profile: "luna-network", Interval: config.Duration(50 * time.Millisecond),
		Timeout: config.Duration(200 * time.Millisecond), Retries: new(int),
		User: &config.SNMPUser{Name: "ops", AuthProto: "SHA", AuthPassEnv: "AUTH", PrivProto: "AES", PrivPassEnv: "PRIV"}}
	src, err := open(spec, component.Env{MIB: mib.Builtin(), Getenv: func(k string) string { return secrets[k] }})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan *event.Event, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(ctx context.Context, r component.Record) error {
			select {
			case events <- r.Event:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("source: %v", err)
		}
	}()
	// next observes events (the tracker is the test goroutine's) until one matches.
	next := func(what string, want func(*event.Event, state.Decision) bool) (*event.Event, state.Decision) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Source != event.SourceSelf {
					cat.Classify(ev) // as the pipeline does
				}
				d := tr.Observe(ev)
				if want(ev, d) {
					return ev, d
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	response := func(ev *event.Event) bool { return ev.Fields.Text("metric") == poller.MetricResponse }

	ev, d := next("the no-answer alarm", func(ev *event.Event, _ state.Decision) bool { return response(ev) })
	if ev.Host != addr || d.Change != state.Opened {
		t.Fatalf("first failure: host %q, change %v; want the address %q, opened", ev.Host, d.Change, addr)
	}
	id := d.Alarm.ID

	const name = "luna-renamed"
	no := false
	fleet, err := sim.NewFleet(&sim.FleetConfig{Seed: 1, Activity: &no, HSMs: []sim.HSMConfig{
		{Vendor: sim.VendorLuna, Addr: addr, Hostname: name,
			Users: []sim.UserConfig{{Name: "ops", Auth: "SHA", AuthPass: secrets["AUTH"], Priv: "AES", PrivPass: secrets["PRIV"]}}},
	}}, sim.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Listen(); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithCancel(ctx)
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(fctx) }()
	stopFleet := func() {
		fcancel()
		if err := <-fleetDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("fleet: %v", err)
		}
	}

	renamed := false
	ev, d = next("the recovery", func(ev *event.Event, d state.Decision) bool {
		if ev.Fields.Text(state.FieldRenamedFrom) != "" {
			renamed = true
			if ev.Fields.Text(state.FieldRenamedFrom) != addr || ev.Host != name || len(d.Moved) != 1 ||
				d.Moved[0].From.Host != addr || d.Moved[0].To.Host != name || d.Moved[0].To.ID != id {
				t.Errorf("rename event %s -> %s, moves %+v", ev.Fields.Text(state.FieldRenamedFrom), ev.Host, d.Moved)
			}
		}
		return response(ev)
	})
	if !renamed {
		t.Error("no rename event ahead of the recovery")
	}
	if ev.Host != name || d.Change != state.Cleared || ev.Cleared != id || ev.Assert != event.False || ev.Level != "major" {
		t.Fatalf("recovery: host %q change %v cleared %q assert %v level %q; want %q, cleared, %q, false, major",
			ev.Host, d.Change, ev.Cleared, ev.Assert, ev.Level, name, id)
	}
	if a := tr.Active(); len(a) != 0 {
		t.Fatalf("alarms left open: %+v", a)
	}

	stopFleet()
	ev, d = next("the next failure", func(ev *event.Event, _ state.Decision) bool { return response(ev) })
	if ev.Host != name || d.Change != state.Opened {
		t.Fatalf("later failure: host %q change %v; want %q, opened", ev.Host, d.Change, name)
	}
	if a := tr.Active(); len(a) != 1 || a[0].Host != name {
		t.Fatalf("open alarms %+v: want one, under %s", a, name)
	}
}

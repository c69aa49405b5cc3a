package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/hsmwatch/hsmwatch"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// Demo is a simulated fleet (one Dinamo, two Luna HSMs on loopback) and a daemon fed by
// it: Luna syslog streamed to the daemon's syslog listener, traps to its trap receiver,
// every HSM polled. The daemon runs the same code as serve, from a generated
// configuration; its store lives in a temporary folder removed when Run returns.
type Demo struct {
	Daemon *Daemon
	fleet  *sim.Fleet
	dir    string
	log    *slog.Logger
}

// DemoOptions configure NewDemo.
type DemoOptions struct {
	// Listen is the HTTP address (default 127.0.0.1:0, a free port).
	Listen string
	// Scenarios played on the fleet (default luna-fan-failure on the Luna HSMs and
	// dinamo-key-lifecycle on the Dinamo).
	Luna, Dinamo []string
	Logger       *slog.Logger
}

// Demo secrets live only in this process: generated at start, handed to the simulated
// Luna HSMs and to the daemon through Options.Getenv, never printed.
const (
	demoAuthEnv = "HSMWATCH_DEMO_AUTH"
	demoPrivEnv = "HSMWATCH_DEMO_PRIV"
	demoCommEnv = "HSMWATCH_DEMO_COMMUNITY"
	demoUser    = "ops"
)

// NewDemo builds the fleet and the daemon and binds every socket.
func NewDemo(ctx context.Context, o DemoOptions) (_ *Demo, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Luna == nil {
		o.Luna = []string{"luna-fan-failure"}
	}
	if o.Dinamo == nil {
		o.Dinamo = []string{"dinamo-key-lifecycle"}
	}
	dir, err := os.MkdirTemp("", "hsmwatch-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	// The agents' ports are chosen now (the daemon's configuration names them) and bound
	// by the fleet right after the daemon.
	agents, err := freeUDPPorts(3)
	if err != nil {
		return nil, err
	}
	secrets := map[string]string{demoAuthEnv: randomPass(), demoPrivEnv: randomPass(), demoCommEnv: "public"}
	engines := []string{"80001f8804" + hex.EncodeToString([]byte("demo-luna-1")), "80001f8804" + hex.EncodeToString([]byte("demo-luna-2"))}
	lunaNames := []string{"luna-demo-1", "luna-demo-2"}
	// The shipped MIBs name the simulated Dinamo's objects and traps; without them its
	// health items would be raw OIDs, and unknown.
	mibDir, err := hsmwatch.ExtractMIBs(filepath.Join(dir, "mibs"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The configuration is YAML read by the same code as serve's.
	user := fmt.Sprintf("{name: %s, auth_proto: SHA, auth_pass_env: %s, priv_proto: AES, priv_pass_env: %s", demoUser, demoAuthEnv, demoPrivEnv)
	text := fmt.Sprintf(`state_dir: %q
mibs: [%q]
http: {listen: %q}
sources:
  syslog:
    - listen: udp://127.0.0.1:0
  traps:
    listen: 127.0.0.1:0
    communities: [public]
    users:
      - %s, engine_ids: [%s, %s]}
  poll:
    - {host: %q, profile: auto, community_env: %s, interval: 10s}
    - {host: %q, name: %s, profile: auto, interval: 10s, user: %s}}
    - {host: %q, name: %s, profile: auto, interval: 10s, user: %s}}
`, dir, mibDir, o.Listen, user, engines[0], engines[1], agents[0], demoCommEnv,
		agents[1], lunaNames[0], user, agents[2], lunaNames[1], user)
	cfg, err := config.Parse("(demo)", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("demo: configuration: %w", err)
	}
	d, err := New(ctx, Options{Config: cfg, Logger: o.Logger, Getenv: func(k string) string { return secrets[k] }})
	if err != nil {
		return nil, fmt.Errorf("demo: daemon: %w", err)
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	syslogAddrs, trapAddrs := d.Addrs("syslog"), d.Addrs("traps")
	if len(syslogAddrs) == 0 || len(trapAddrs) == 0 {
		return nil, errors.New("demo: the daemon has no syslog or trap listener")
	}
	users := []sim.UserConfig{{Name: demoUser, Auth: "SHA", AuthPass: secrets[demoAuthEnv], Priv: "AES", PrivPass: secrets[demoPrivEnv]}}
	no := false
	fc := &sim.FleetConfig{Seed: 1, Activity: &no, TrapTargets: []string{trapAddrs[0].String()},
		HSMs: []sim.HSMConfig{{Vendor: sim.VendorDinamo, Addr: agents[0], Scenarios: o.Dinamo}}}
	for i := range 2 {
		fc.HSMs = append(fc.HSMs, sim.HSMConfig{Vendor: sim.VendorLuna, Addr: agents[i+1], Hostname: lunaNames[i],
			Users: users, EngineID: engines[i], Scenarios: o.Luna,
			Syslog: []sim.SyslogConfig{{Target: "udp://" + syslogAddrs[0].String(), Format: sim.FormatLuna}}})
	}
	fleet, err := sim.NewFleet(fc, sim.FleetOptions{Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("demo: fleet: %w", err)
	}
	if err := fleet.Listen(); err != nil {
		return nil, fmt.Errorf("demo: fleet: %w", err)
	}
	return &Demo{Daemon: d, fleet: fleet, dir: dir, log: o.Logger}, nil
}

// Members describe the simulated HSMs (no secrets).
func (m *Demo) Members() []string {
	var out []string
	for _, mb := range m.fleet.Members() {
		out = append(out, mb.Describe())
	}
	return out
}

// Run runs the fleet and the daemon until ctx ends, then stops both and removes the
// temporary folder.
func (m *Demo) Run(ctx context.Context) error {
	defer os.RemoveAll(m.dir)
	var wg sync.WaitGroup
	var fleetErr error
	wg.Go(func() { fleetErr = m.fleet.Run(ctx) })
	err := m.Daemon.Run(ctx)
	wg.Wait()
	if fleetErr != nil && !errors.Is(fleetErr, context.Canceled) {
		m.log.Warn("simulated fleet", "err", fleetErr)
	}
	return err
}

// freeUDPPorts returns n loopback UDP addresses that were free a moment ago.
func freeUDPPorts(n int) ([]string, error) {
	var conns []net.PacketConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var out []string
	for range n {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		conns = append(conns, c)
		out = append(out, c.LocalAddr().String())
	}
	return out, nil
}

func randomPass() string { return "demo-" + rand.Text() }

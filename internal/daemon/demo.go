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
	"time"

	"github.com/hsmwatch/hsmwatch"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// Demo is a simulated fleet (one Dinamo, two Luna HSMs on loopback, and a SoftHSM2 token
// where SoftHSM2 is installed) and a daemon fed by it: Luna syslog streamed to the
// daemon's syslog listener, traps to its trap receiver, the Dinamo's event log followed,
// every HSM polled, the token probed. The daemon runs the same code as serve, from a
// generated configuration; its store lives in a temporary folder removed when Run
// returns.
//
// The demo is alive at once: before the daemon reads anything live, the same simulated
// HSMs play the last day (History) on a clock that runs ahead of them, and what they
// said and answered goes through the daemon's own path (parse, classify, state, store;
// polls by the real poller), so the dashboard opens on a day of figures, events and
// alarms opened and cleared. Then they go on in real time, their scenarios cycling
// (Cycle) so that something happens every few minutes. A demo operator acknowledges the
// tamper alarms that only a person can close, and closes them once the HSM is back.
type Demo struct {
	Daemon *Daemon
	fleet  *sim.Fleet
	clock  *sim.Handover
	origin time.Time
	end    time.Time // of the replayed past
	dir    string
	log    *slog.Logger
	opts   DemoOptions
	hist   *history
	op     *demoOperator
	// Token is the SoftHSM2 token's label, "" when SoftHSM2 is not installed.
	Token string
}

// DemoOptions configure NewDemo.
type DemoOptions struct {
	// Listen is the HTTP address (default 127.0.0.1:0, a free port).
	Listen string
	// History is how much of the past is played at start (default 24h; negative: none).
	History time.Duration
	// HistoryStep is the time between two polls of the history (default 5m: 288 polls of
	// each HSM for a day, a few seconds).
	HistoryStep time.Duration
	// Cycle is the period of the scenarios (default DemoCycle): each HSM's schedule
	// (DemoSchedule) is played again every Cycle.
	Cycle time.Duration
	// SoftHSM is the SoftHSM2 library (default: the first of the usual places that
	// exists); "none" leaves the token out.
	SoftHSM string
	// Interval is the live poll interval (default 10s).
	Interval time.Duration
	Logger   *slog.Logger
}

// DemoCycle is the default period of the demo's scenarios.
const DemoCycle = 30 * time.Minute

// demoPhase is how far into a cycle the demo starts: the replayed past ends quiet (every
// scenario of the previous cycle has ended, the poll alarms are clear), and the first
// live step comes a few seconds later.
const demoPhase = 25 * time.Second

// DemoSchedule is what each simulated HSM plays every cycle: a scenario and its offset in
// the cycle (its own steps start 30 s later). The offsets interleave the three HSMs so
// that something happens every few minutes; every scenario ends within the cycle and
// leaves its HSM as it found it.
func DemoSchedule() map[string][]sim.ScheduleEntry {
	at := func(d time.Duration) sim.Duration { return sim.Duration(d) }
	return map[string][]sim.ScheduleEntry{
		"luna-demo-1": {
			{Scenario: "luna-fan-failure", At: at(0)},
			{Scenario: "luna-ntls-crash", At: at(9 * time.Minute)},
			{Scenario: "luna-power-supply-loss", At: at(17 * time.Minute)},
		},
		"luna-demo-2": {
			{Scenario: "luna-tamper-zeroize", At: at(5 * time.Minute)},
			{Scenario: "luna-hsm-reinit", At: at(14 * time.Minute)},
			{Scenario: "luna-token-filling", At: at(16 * time.Minute)},
		},
		"dinamo": {
			{Scenario: "dinamo-key-export", At: at(3 * time.Minute)},
			{Scenario: "dinamo-battery-replaced", At: at(15 * time.Minute)},
			{Scenario: "dinamo-auth-failures", At: at(24 * time.Minute)},
		},
	}
}

// Demo secrets live only in this process: generated at start, handed to the simulated
// Luna HSMs and to the daemon through Options.Getenv, never printed.
const (
	demoAuthEnv = "HSMWATCH_DEMO_AUTH"
	demoPrivEnv = "HSMWATCH_DEMO_PRIV"
	demoCommEnv = "HSMWATCH_DEMO_COMMUNITY"
	demoUser    = "ops"
)

// demoDinamoSerial is the simulated Dinamo's serial number, its sysName: the name it has
// in the fleet, also given to its event log records that name no HSM.
const demoDinamoSerial = "TCA0041054"

// NewDemo builds the fleet and the daemon and binds every socket.
func NewDemo(ctx context.Context, o DemoOptions) (_ *Demo, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.History == 0 {
		o.History = 24 * time.Hour
	}
	if o.HistoryStep <= 0 {
		o.HistoryStep = 5 * time.Minute
	}
	if o.Cycle <= 0 {
		o.Cycle = DemoCycle
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
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
	eventLog := filepath.Join(dir, "dinamo-events.log")
	if err := os.WriteFile(eventLog, nil, 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	token, pkcs11 := "", ""
	if lib, conf, label, terr := demoToken(ctx, o.SoftHSM, dir); terr != nil {
		o.Logger.Info("demo: no PKCS#11 token in the fleet", "why", terr.Error())
	} else {
		token = label
		pkcs11 = fmt.Sprintf("  pkcs11:\n    - {library: %q, interval: 30s, env: {SOFTHSM2_CONF: %q}}\n", lib, conf)
	}
	// The configuration is YAML read by the same code as serve's. SoftHSM2 always shows
	// a free slot with an uninitialised token, which the probe reports (rightly) as an
	// alarm: in the demo it is a known, benign one.
	user := fmt.Sprintf("{name: %s, auth_proto: SHA, auth_pass_env: %s, priv_proto: AES, priv_pass_env: %s", demoUser, demoAuthEnv, demoPrivEnv)
	text := fmt.Sprintf(`state_dir: %q
mibs: [%q]
http: {listen: %q}
state:
  ignore:
    - {rule: pkcs11probe.token, contains: "not initialised (no CKF_TOKEN_INITIALIZED)", reason: "SoftHSM2's free slot, where a new token can be initialised"}
sources:
  syslog:
    - listen: udp://127.0.0.1:0
  traps:
    listen: 127.0.0.1:0
    communities: [public]
    users:
      - %s, engine_ids: [%s, %s]}
  poll:
    - {host: %q, profile: auto, community_env: %s, interval: %s}
    - {host: %q, name: %s, profile: auto, interval: %s, user: %s}}
    - {host: %q, name: %s, profile: auto, interval: %s, user: %s}}
  files:
    - {path: %q, format: dinamo-log, start: beginning, host: %s}
%s`, dir, mibDir, o.Listen, user, engines[0], engines[1], agents[0], demoCommEnv, o.Interval,
		agents[1], lunaNames[0], o.Interval, user, agents[2], lunaNames[1], o.Interval, user, eventLog, demoDinamoSerial, pkcs11)
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
	// The cycles started in the past, so that the last day is theirs: the replay ends
	// demoPhase into a cycle, when the fleet is quiet.
	now := time.Now().Truncate(time.Second)
	origin := now.Add(-max(o.History, 0) - demoPhase)
	clock := sim.NewHandover(origin)
	users := []sim.UserConfig{{Name: demoUser, Auth: "SHA", AuthPass: secrets[demoAuthEnv], Priv: "AES", PrivPass: secrets[demoPrivEnv]}}
	no := false
	schedule := DemoSchedule()
	cycle := sim.Duration(o.Cycle)
	fc := &sim.FleetConfig{Seed: 1, Activity: &no, Zone: "Local", TrapTargets: []string{trapAddrs[0].String()},
		HSMs: []sim.HSMConfig{{Vendor: sim.VendorDinamo, Addr: agents[0], Serial: demoDinamoSerial, EventLog: eventLog, Schedule: schedule["dinamo"], Cycle: cycle}}}
	for i := range 2 {
		fc.HSMs = append(fc.HSMs, sim.HSMConfig{Vendor: sim.VendorLuna, Addr: agents[i+1], Hostname: lunaNames[i],
			Users: users, EngineID: engines[i], Schedule: schedule[lunaNames[i]], Cycle: cycle,
			Syslog: []sim.SyslogConfig{{Target: "udp://" + syslogAddrs[0].String(), Format: sim.FormatLuna}}})
	}
	fleet, err := sim.NewFleet(fc, sim.FleetOptions{Logger: o.Logger, Clock: clock})
	if err != nil {
		return nil, fmt.Errorf("demo: fleet: %w", err)
	}
	if err := fleet.Listen(); err != nil {
		return nil, fmt.Errorf("demo: fleet: %w", err)
	}
	m := &Demo{Daemon: d, fleet: fleet, clock: clock, origin: origin, end: now, dir: dir, log: o.Logger, opts: o, Token: token,
		op: &demoOperator{d: d, log: o.Logger}}
	m.hist = &history{d: d, fleet: fleet, secrets: secrets, agents: agents, lunaNames: lunaNames, engines: engines,
		table: d.mibTable(cfg), log: o.Logger, op: m.op}
	d.prelude = m.prelude
	return m, nil
}

// Members describe the simulated HSMs (no secrets).
func (m *Demo) Members() []string {
	var out []string
	for _, mb := range m.fleet.Members() {
		out = append(out, mb.Describe())
	}
	if m.Token != "" {
		out = append(out, fmt.Sprintf("pkcs11 %-16s SoftHSM2 token (its own SOFTHSM2_CONF under the demo's folder)", m.Token))
	}
	return out
}

// Run runs the fleet and the daemon until ctx ends, then stops both and removes the
// temporary folder.
func (m *Demo) Run(ctx context.Context) error {
	defer os.RemoveAll(m.dir)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := m.fleet.Start(fctx, m.origin); err != nil {
		return fmt.Errorf("demo: fleet: %w", err)
	}
	var wg sync.WaitGroup
	var fleetErr error
	live := make(chan struct{})
	m.hist.live = func() {
		m.clock.Live()
		close(live)
		wg.Go(func() { fleetErr = m.fleet.Run(fctx) })
		wg.Go(func() { m.op.run(fctx) })
	}
	err := m.Daemon.Run(ctx)
	select {
	case <-live:
		cancel()
	default: // the daemon stopped before its prelude ran: the fleet never ran
		cancel()
		m.fleet.Close()
	}
	wg.Wait()
	if fleetErr != nil && !errors.Is(fleetErr, context.Canceled) {
		m.log.Warn("simulated fleet", "err", fleetErr)
	}
	return err
}

// prelude replays the past into the daemon, then lets the fleet go on in real time.
func (m *Demo) prelude(ctx context.Context) error {
	defer func() {
		if m.hist.live != nil {
			m.hist.live()
			m.hist.live = nil
		}
	}()
	if m.opts.History <= 0 {
		return nil
	}
	// The past ends where NewDemo was called, demoPhase into a cycle, quiet; what came due
	// since is played live, through the daemon's sockets.
	return m.hist.replay(ctx, m.clock, m.end, m.opts.HistoryStep)
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

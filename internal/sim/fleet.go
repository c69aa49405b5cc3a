package sim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// FleetConfig describes the simulated HSMs of one process (hsmwatch sim --config FILE).
//
//	seed: 1
//	trap_targets: [127.0.0.1:10162]
//	hsms:
//	  - vendor: dinamo
//	    addr: 127.0.0.1:10161
//	    scenarios: [dinamo-key-lifecycle]
//	  - vendor: luna
//	    addr: 127.0.0.1:10171
//	    schedule:          # scenarios at offsets, played again every cycle
//	      - {scenario: luna-fan-failure, at: 0s}
//	      - {scenario: luna-ntls-crash, at: 9m}
//	    cycle: 30m
//	    users: [{name: ops, auth: SHA, auth_pass: "...", priv: AES, priv_pass: "..."}]
//	    syslog: [{target: "udp://127.0.0.1:5514", format: luna}]
//	  - vendor: dinamo
//	    addr: 127.0.1.1:161
//	    count: 500         # 500 HSMs, on 127.0.1.1 .. 127.0.2.244, port 161
//	    step: ip
type FleetConfig struct {
	Seed        uint64      `yaml:"seed"`
	TrapTargets []string    `yaml:"trap_targets"`
	Activity    *bool       `yaml:"activity"` // Dinamo client sessions in the background (default true)
	Zone        string      `yaml:"zone"`     // of log timestamps (IANA name; default UTC)
	HSMs        []HSMConfig `yaml:"hsms"`
}

// HSMConfig is one simulated HSM, or Count of them.
type HSMConfig struct {
	Vendor string `yaml:"vendor"` // dinamo or luna
	Addr   string `yaml:"addr"`   // UDP address its agent answers on
	Count  int    `yaml:"count"`  // more than 1: that many HSMs, the address stepping
	Step   string `yaml:"step"`   // what steps: port (default) or ip
	Name   string `yaml:"name"`   // with Count, the prefix of name-0001, name-0002, ...
	Serial string `yaml:"serial"`

	Contact     string   `yaml:"contact"`
	Location    string   `yaml:"location"`
	TrapTargets []string `yaml:"trap_targets"` // replaces the fleet's
	Scenarios   []string `yaml:"scenarios"`    // shipped names or files
	// Schedule starts scenarios at offsets (from the start, or from each cycle's start);
	// Cycle plays the scenarios and the schedule again every cycle, for ever.
	Schedule []ScheduleEntry `yaml:"schedule"`
	Cycle    Duration        `yaml:"cycle"`

	// Dinamo
	Alias         string `yaml:"alias"`
	TrapCommunity string `yaml:"trap_community"`
	EventLog      string `yaml:"event_log"` // native event log file; {name} and {serial} are replaced

	// Luna
	Hostname   string            `yaml:"hostname"`
	Label      string            `yaml:"label"`
	Users      []UserConfig      `yaml:"users"`
	TrapUser   string            `yaml:"trap_user"`
	EngineID   string            `yaml:"engine_id"` // hex
	Syslog     []SyslogConfig    `yaml:"syslog"`
	LogFile    string            `yaml:"log_file"` // appliance log in the Luna file format; {name} {serial}
	Partitions []PartitionConfig `yaml:"partitions"`
}

// ScheduleEntry is a scenario (a shipped name or a file) started at an offset.
type ScheduleEntry struct {
	Scenario string   `yaml:"scenario"`
	At       Duration `yaml:"at"`
}

// UserConfig is an SNMPv3 USM user: no auth_pass is noAuthNoPriv, no priv_pass
// authNoPriv. Protocols: auth MD5, SHA (default), SHA224, SHA256, SHA384, SHA512; priv
// DES, AES (default), AES192, AES256, AES192C, AES256C.
type UserConfig struct {
	Name     string `yaml:"name"`
	Auth     string `yaml:"auth"`
	AuthPass string `yaml:"auth_pass"`
	Priv     string `yaml:"priv"`
	PrivPass string `yaml:"priv_pass"`
}

// SyslogConfig is where a Luna appliance sends its log lines.
type SyslogConfig struct {
	Target string `yaml:"target"` // udp://host:port or tcp://host:port
	Format string `yaml:"format"` // luna (default) or rfc5424
}

// ParseFleetConfig reads a fleet configuration; unknown fields are errors.
func ParseFleetConfig(data []byte) (*FleetConfig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c FleetConfig
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("fleet config: empty")
		}
		return nil, fmt.Errorf("fleet config: %w", err)
	}
	return &c, nil
}

// ResolvePaths makes the scenario files of c that are relative paths relative to dir
// (the configuration file's folder). A reference without a folder and without ".yaml"
// is a shipped scenario's name and stays as it is.
func (c *FleetConfig) ResolvePaths(dir string) {
	resolve := func(ref string) string {
		if filepath.IsAbs(ref) || (!strings.ContainsAny(ref, `/\`) && !strings.HasSuffix(ref, ".yaml") && !strings.HasSuffix(ref, ".yml")) {
			return ref
		}
		return filepath.Join(dir, ref)
	}
	for i := range c.HSMs {
		for j, ref := range c.HSMs[i].Scenarios {
			c.HSMs[i].Scenarios[j] = resolve(ref)
		}
		for j := range c.HSMs[i].Schedule {
			c.HSMs[i].Schedule[j].Scenario = resolve(c.HSMs[i].Schedule[j].Scenario)
		}
	}
}

// User converts u to an agent user, checking protocols and passphrase lengths (net-snmp
// wants at least 8 characters).
func (u UserConfig) User() (agent.User, error) {
	out := agent.User{Name: u.Name, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
	if u.Name == "" {
		return out, errors.New("user: no name")
	}
	if u.AuthPass == "" {
		if u.PrivPass != "" {
			return out, fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", u.Name)
		}
		return out, nil
	}
	if len(u.AuthPass) < 8 {
		return out, fmt.Errorf("user %s: authentication passphrase shorter than 8 characters", u.Name)
	}
	a, err := usm.AuthProtocol(cmp.Or(u.Auth, "SHA"))
	if err != nil {
		return out, fmt.Errorf("user %s: %w", u.Name, err)
	}
	out.AuthProto, out.AuthPass = a, u.AuthPass
	if u.PrivPass == "" {
		return out, nil
	}
	if len(u.PrivPass) < 8 {
		return out, fmt.Errorf("user %s: privacy passphrase shorter than 8 characters", u.Name)
	}
	p, err := usm.PrivProtocol(cmp.Or(u.Priv, "AES"))
	if err != nil {
		return out, fmt.Errorf("user %s: %w", u.Name, err)
	}
	out.PrivProto, out.PrivPass = p, u.PrivPass
	return out, nil
}

// securityLevel describes a user without its passphrases.
func securityLevel(u agent.User) string {
	switch {
	case u.AuthPass == "":
		return u.Name + " (noAuthNoPriv)"
	case u.PrivPass == "":
		return fmt.Sprintf("%s (authNoPriv %s)", u.Name, u.AuthProto)
	}
	return fmt.Sprintf("%s (authPriv %s/%s)", u.Name, u.AuthProto, u.PrivProto)
}

// FleetOptions are what a fleet needs besides its configuration.
type FleetOptions struct {
	Clock   Clock        // default Real
	Logger  *slog.Logger // default discard
	Observe func(Emitted)
}

// Fleet is N simulated HSMs served by one process.
type Fleet struct {
	clock    Clock
	log      *slog.Logger
	activity bool
	members  []*Member
	closers  []io.Closer
	start    time.Time
	started  bool
	serving  sync.WaitGroup // the agents' Serve, from Start until ctx ends
}

// Member is one HSM of a fleet: the device, where its agent listens, where it sends.
type Member struct {
	Device      Device
	Listen      string // configured address
	TrapTargets []string
	LogOutputs  []string
	Scenarios   []string
	agent       *agent.Agent
	out         Outputs
	runner      *Runner
	entries     []Entry
	cycle       time.Duration
}

// Addr is where the member's agent answers (after Listen).
func (m *Member) Addr() string {
	if m.agent == nil {
		return m.Listen
	}
	return m.agent.Addr().String()
}

// Agent is the member's SNMP agent (after Listen).
func (m *Member) Agent() *agent.Agent { return m.agent }

// Describe is one line saying where the member listens and what it sends, with no
// passphrase.
func (m *Member) Describe() string {
	info := m.Device.Info()
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-16s udp %s", info.Vendor, info.Name, m.Addr())
	switch d := m.Device.(type) {
	case *Dinamo:
		fmt.Fprintf(&b, "  snmp v2c community public; sysName %s", info.Serial)
		if len(m.TrapTargets) > 0 { // the trap community is not shown: it is a shared secret
			fmt.Fprintf(&b, "; traps v2c to %s", strings.Join(m.TrapTargets, ", "))
		}
	case *Luna:
		var users []string
		for _, u := range d.cfg.Users {
			users = append(users, securityLevel(u))
		}
		fmt.Fprintf(&b, "  snmp v3 engine %s users %s; host %s", hex.EncodeToString(d.EngineID()), strings.Join(users, ", "), info.Host)
		if len(m.TrapTargets) > 0 && d.trapUser != nil {
			fmt.Fprintf(&b, "; traps v3 user %s to %s", d.trapUser.Name, strings.Join(m.TrapTargets, ", "))
		}
	}
	if len(m.LogOutputs) > 0 {
		fmt.Fprintf(&b, "; logs to %s", strings.Join(m.LogOutputs, ", "))
	}
	if len(m.Scenarios) > 0 {
		fmt.Fprintf(&b, "; scenarios %s", strings.Join(m.Scenarios, ", "))
	}
	if m.cycle > 0 {
		fmt.Fprintf(&b, " every %s", m.cycle)
	}
	return b.String()
}

// NewFleet builds the devices of cfg, loads their scenarios and opens their log outputs.
// Agents are not listening yet (Listen).
func NewFleet(cfg *FleetConfig, opts FleetOptions) (*Fleet, error) {
	f := &Fleet{clock: opts.Clock, log: opts.Logger, activity: cfg.Activity == nil || *cfg.Activity}
	if f.clock == nil {
		f.clock = Real{}
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	zone := time.UTC
	if cfg.Zone != "" {
		z, err := time.LoadLocation(cfg.Zone)
		if err != nil {
			return nil, fmt.Errorf("zone %q: %w", cfg.Zone, err)
		}
		zone = z
	}
	if len(cfg.HSMs) == 0 {
		return nil, errors.New("no HSM to simulate")
	}
	sinks := map[string]LogSink{} // shared by target, so a fleet opens one socket per target
	scenarios := map[string]*Scenario{}
	names := map[string]bool{}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	n := 0
	for hi, h := range cfg.HSMs {
		count := max(h.Count, 1)
		for i := 0; i < count; i++ {
			n++
			m, err := f.member(cfg, h, hi, i, count, uint64(n), zone, sinks, scenarios, opts.Observe)
			if err != nil {
				return nil, fmt.Errorf("hsms[%d]: %w", hi, err)
			}
			name := m.Device.Info().Name
			if names[name] {
				return nil, fmt.Errorf("hsms[%d]: two HSMs are named %s", hi, name)
			}
			names[name] = true
			f.members = append(f.members, m)
		}
	}
	ok = true
	return f, nil
}

func (f *Fleet) member(cfg *FleetConfig, h HSMConfig, hi, i, count int, n uint64, zone *time.Location,
	sinks map[string]LogSink, scenarios map[string]*Scenario, observe func(Emitted)) (*Member, error) {
	addr, err := stepAddr(h.Addr, h.Step, i)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	name, serial := h.Name, h.Serial
	if count > 1 {
		if name == "" {
			name = h.Vendor
		}
		name = fmt.Sprintf("%s-%04d", name, i+1)
		if serial != "" {
			serial = fmt.Sprintf("%s%04d", serial, i+1)
		}
	}
	seed := mix(cfg.Seed ^ mix(n))
	if serial == "" {
		// unique in the fleet: a base from the fleet's seed plus the HSM's number
		base := mix(cfg.Seed)
		switch h.Vendor {
		case VendorDinamo:
			serial = fmt.Sprintf("TCA%07d", (base%9000000+n)%10000000)
		case VendorLuna:
			serial = strconv.FormatUint(100000+(base%400000+n)%900000, 10)
		}
	}
	targets := cfg.TrapTargets
	if h.TrapTargets != nil {
		targets = h.TrapTargets
	}
	m := &Member{Listen: addr, TrapTargets: targets}
	out := Outputs{Logger: f.log, Observe: observe}
	place := func(p string, info Info) string {
		return strings.NewReplacer("{name}", info.Name, "{serial}", info.Serial).Replace(p)
	}
	fileSink := func(path string) (LogSink, error) {
		if s, ok := sinks["file:"+path]; ok {
			return s, nil
		}
		s, err := OpenFileSink(path)
		if err != nil {
			return nil, err
		}
		f.closers = append(f.closers, s)
		sinks["file:"+path] = s
		return s, nil
	}
	switch h.Vendor {
	case VendorDinamo:
		if len(targets) > 4 {
			return nil, fmt.Errorf("a Dinamo HSM sends traps to at most 4 targets, %d given", len(targets))
		}
		if n := len(h.Users) + len(h.Syslog); n > 0 || h.LogFile != "" || h.EngineID != "" {
			return nil, errors.New("users, syslog, log_file and engine_id are Luna settings: a Dinamo has a v2c agent and an event log (event_log)")
		}
		d := NewDinamo(DinamoConfig{Name: name, Serial: serial, Alias: h.Alias, Contact: h.Contact, Location: h.Location,
			Address: host, TrapCommunity: h.TrapCommunity, Seed: seed, Clock: f.clock, Zone: zone})
		for _, t := range targets {
			out.Targets = append(out.Targets, d.TrapTarget(t))
		}
		if h.EventLog != "" {
			p := place(h.EventLog, d.Info())
			s, err := fileSink(p)
			if err != nil {
				return nil, err
			}
			out.Logs = append(out.Logs, s)
			m.LogOutputs = append(m.LogOutputs, p)
		}
		m.Device = d
	case VendorLuna:
		if h.EventLog != "" || h.TrapCommunity != "" {
			return nil, errors.New("event_log and trap_community are Dinamo settings")
		}
		var users []agent.User
		for _, uc := range h.Users {
			u, err := uc.User()
			if err != nil {
				return nil, err
			}
			users = append(users, u)
		}
		if len(users) == 0 {
			return nil, errors.New("a Luna HSM answers SNMPv3 only: give it a user (users, or --luna-user)")
		}
		var engine []byte
		if h.EngineID != "" {
			if engine, err = usm.ParseEngineID(h.EngineID); err != nil {
				return nil, fmt.Errorf("engine_id: %w", err)
			}
		}
		hostname := h.Hostname
		if hostname != "" && count > 1 {
			hostname = fmt.Sprintf("%s-%04d", hostname, i+1)
		}
		l := NewLuna(LunaConfig{Name: name, Hostname: hostname, IP: host, Serial: serial, Label: h.Label,
			Contact: h.Contact, Location: h.Location, Partitions: h.Partitions, Users: users, TrapUser: h.TrapUser,
			EngineID: engine, Seed: seed, Clock: f.clock, Zone: zone})
		if h.TrapUser != "" && l.trapUser == nil {
			return nil, fmt.Errorf("trap_user %q is not one of the users", h.TrapUser)
		}
		for _, t := range targets {
			if tt, ok := l.TrapTarget(t); ok {
				out.Targets = append(out.Targets, tt)
			}
		}
		for _, sc := range h.Syslog {
			key := "syslog:" + sc.Target + ":" + sc.Format
			s, ok := sinks[key]
			if !ok {
				ss, err := NewSyslogSink(sc.Target, sc.Format)
				if err != nil {
					return nil, err
				}
				f.closers = append(f.closers, ss)
				sinks[key], s = ss, ss
			}
			out.Logs = append(out.Logs, s)
			m.LogOutputs = append(m.LogOutputs, s.(*SyslogSink).String())
		}
		if h.LogFile != "" {
			p := place(h.LogFile, l.Info())
			s, err := fileSink(p)
			if err != nil {
				return nil, err
			}
			out.Logs = append(out.Logs, s)
			m.LogOutputs = append(m.LogOutputs, p)
		}
		m.Device = l
	default:
		return nil, fmt.Errorf("vendor %q: use dinamo or luna", h.Vendor)
	}
	plan := make([]ScheduleEntry, 0, len(h.Scenarios)+len(h.Schedule))
	for _, ref := range h.Scenarios {
		plan = append(plan, ScheduleEntry{Scenario: ref})
	}
	plan = append(plan, h.Schedule...)
	for _, e := range plan {
		ref := e.Scenario
		sc, ok := scenarios[ref]
		if !ok {
			sc, err = LoadScenario(ref)
			if err != nil {
				return nil, err
			}
			scenarios[ref] = sc
		}
		if sc.Vendor != h.Vendor {
			return nil, fmt.Errorf("scenario %s is for %s HSMs, not %s", sc.Name, sc.Vendor, h.Vendor)
		}
		m.entries = append(m.entries, Entry{Scenario: sc, At: time.Duration(e.At)})
		name := sc.Name
		if e.At > 0 {
			name += " +" + time.Duration(e.At).String()
		}
		m.Scenarios = append(m.Scenarios, name)
	}
	if h.Cycle < 0 {
		return nil, errors.New("cycle: negative")
	}
	if h.Cycle > 0 && len(m.entries) == 0 {
		return nil, errors.New("cycle: no scenario to cycle (scenarios or schedule)")
	}
	m.cycle = time.Duration(h.Cycle)
	if m.cycle > 0 {
		// checked now, so that a scenario past the cycle is a configuration error
		if _, err := NewCycle(m.Device, time.Time{}, m.cycle, m.entries...); err != nil {
			return nil, err
		}
	}
	m.out = out
	m.Device.Bind(out)
	return m, nil
}

// stepAddr is the i-th address from addr: the port + i (step "port", the default), or
// the IPv4 address + i with the same port (step "ip", e.g. 127.0.0.1, 127.0.0.2, ...).
func stepAddr(addr, step string, i int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("addr %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("addr %q: bad port", addr)
	}
	switch step {
	case "", "port":
		if i == 0 {
			return addr, nil
		}
		if p == 0 {
			return addr, nil // every agent gets a port of the system's choice
		}
		if p+i > 65535 {
			return "", fmt.Errorf("addr %q: port %d + %d is past 65535", addr, p, i)
		}
		return net.JoinHostPort(host, strconv.Itoa(p+i)), nil
	case "ip":
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is4() {
			return "", fmt.Errorf("addr %q: step ip needs an IPv4 address", addr)
		}
		a := ip.As4()
		v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		v += uint32(i)
		next := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		return net.JoinHostPort(next.String(), port), nil
	}
	return "", fmt.Errorf("step %q: use port or ip", step)
}

// Members returns the fleet's HSMs.
func (f *Fleet) Members() []*Member { return f.members }

// Listen opens every agent's socket, so that Members show where each HSM answers before
// Run. An address in use is an error and nothing stays open.
func (f *Fleet) Listen() error {
	for _, m := range f.members {
		cfg := m.Device.AgentConfig()
		cfg.Addr = m.Listen
		cfg.Logger = f.log.With("hsm", m.Device.Info().Name)
		a, err := agent.New(cfg)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", m.Device.Info().Name, err)
		}
		m.agent = a
		m.out.Notifier = a
		m.out.Reboot = a.Reboot
		m.Device.Bind(m.out)
	}
	return nil
}

// Start serves every agent until ctx ends and schedules the scenarios, their offsets
// counted from origin (cycles start at origin, origin + cycle, ...). Run calls it with
// the clock's time when it was not called before; a caller that replays the past first
// (Replay) calls it with an origin in the past.
func (f *Fleet) Start(ctx context.Context, origin time.Time) error {
	if f.started {
		return errors.New("sim: fleet started twice")
	}
	if len(f.members) > 0 && f.members[0].agent == nil {
		if err := f.Listen(); err != nil {
			return err
		}
	}
	f.start = origin
	for _, m := range f.members {
		r, err := newRunner(m.Device, origin, m.cycle, m.entries)
		if err != nil {
			f.Close()
			return err
		}
		m.runner = r
	}
	f.started = true
	for _, m := range f.members {
		f.serving.Add(1)
		go func(m *Member) {
			defer f.serving.Done()
			if err := m.agent.Serve(ctx); err != nil {
				f.log.Error("sim: agent stopped", "hsm", m.Device.Info().Name, "err", err)
			}
		}(m)
	}
	return nil
}

// Run serves every agent and plays the scenarios (from Start's origin, or from now)
// until ctx ends. Then it closes the agents and the log outputs.
func (f *Fleet) Run(ctx context.Context) error {
	if !f.started {
		if err := f.Start(ctx, f.clock.Now()); err != nil {
			return err
		}
	}
	f.loop(ctx)
	f.serving.Wait() // every Serve returns once ctx is done, closing its socket
	f.closeOutputs()
	return nil
}

// Setter is a clock a replay moves: Manual, or Handover before it goes live.
type Setter interface {
	Clock
	Set(time.Time)
}

// Replay plays the scenarios from the clock's time up to end on clock c (the one the
// fleet was built with), moving it to the time of each step before running it, and
// sends nothing meanwhile: every log record and trap goes to observe only, in order,
// with its own time. at, when not nil, is called at the clock's time and then every
// interval, after the steps due by then (the demo polls the agents there, which answer
// with the values of that time). The outputs are restored afterwards: Run then carries on
// from the state and the cycles the replay reached. Call it after Start, before Run.
func (f *Fleet) Replay(ctx context.Context, c Setter, end time.Time, interval time.Duration, observe func(Emitted), at func(context.Context, time.Time) error) error {
	if !f.started {
		return errors.New("sim: replay before Start")
	}
	if interval <= 0 {
		return errors.New("sim: replay needs a positive interval")
	}
	for _, m := range f.members {
		muted := m.out
		muted.Notifier, muted.Targets, muted.Logs, muted.Observe = nil, nil, nil, observe
		m.Device.Bind(muted)
	}
	defer func() {
		for _, m := range f.members {
			m.Device.Bind(m.out)
		}
	}()
	tick := c.Now()
	for {
		t := tick
		for _, m := range f.members {
			if n, ok := m.runner.Next(); ok && n.Before(t) {
				t = n
			}
		}
		if t.After(end) {
			break
		}
		c.Set(t)
		for _, m := range f.members {
			if err := m.runner.RunUntil(ctx, t); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				f.log.Warn("sim: scenario step failed", "err", err)
			}
		}
		if t.Equal(tick) {
			if f.activity {
				for _, m := range f.members {
					m.Device.Tick(ctx)
				}
			}
			if at != nil {
				if err := at(ctx, t); err != nil {
					return err
				}
			}
			tick = tick.Add(interval)
		}
	}
	c.Set(end)
	return nil
}

// loop plays the scenarios and the background activity until ctx ends: it wakes at the
// next step due, or every second.
func (f *Fleet) loop(ctx context.Context) {
	const tick = time.Second
	for {
		now := f.clock.Now()
		next := now.Add(tick)
		for _, m := range f.members {
			if err := m.runner.RunUntil(ctx, now); err != nil && ctx.Err() == nil {
				f.log.Warn("sim: scenario step failed", "err", err)
			}
			if f.activity {
				m.Device.Tick(ctx)
			}
			if t, ok := m.runner.Next(); ok && t.Before(next) {
				next = t
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-f.clock.After(next.Sub(now)):
		}
	}
}

// Close releases what a fleet that does not Run holds: the agents' sockets and the log
// outputs. Run releases them itself.
func (f *Fleet) Close() {
	for _, m := range f.members {
		if m.agent != nil {
			_ = m.agent.Close()
		}
	}
	f.closeOutputs()
}

func (f *Fleet) closeOutputs() {
	for _, c := range f.closers {
		_ = c.Close()
	}
	f.closers = nil
}

// StdoutObserver prints every emitted log line and trap to w, one per line.
func StdoutObserver(w io.Writer) func(Emitted) {
	var mu sync.Mutex
	return func(e Emitted) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Log != nil:
			fmt.Fprintf(w, "%s log  %s\n", e.Device, e.Log.Line())
		case e.Trap != nil:
			var vs []string
			for _, v := range e.Trap.Vars {
				vs = append(vs, fmt.Sprintf("%v", v.Value))
			}
			fmt.Fprintf(w, "%s trap %s %s\n", e.Device, e.Trap.Name, strings.Join(vs, " "))
		}
	}
}

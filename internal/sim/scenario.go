package sim

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A scenario is a script in YAML: steps at offsets from the start of the simulation,
// each with one action. Actions are vendor-aware, so that one step keeps the SNMP values,
// the trap and the log line consistent: a sensor step sets the reading that LM-SENSORS
// shows, writes the IPMI line the guide documents when a threshold is crossed, and sends
// the trap whose ssLogReference points at that line.
//
//	name: luna-fan-failure
//	vendor: luna
//	description: ...
//	steps:
//	  - at: 30s
//	    sensor: {name: Fan1A, value: 1600}
//	  - at: 40s
//	    repeat: 3        # the step runs 3 times,
//	    every: 5s        # 5 s apart
//	    auth_failure: {service: ssh, user: admin, client: 192.168.0.100}
//
// The shipped scenarios are in scenarios/*.yaml (hsmwatch sim --scenario NAME).

//go:embed scenarios/*.yaml
var shippedScenarios embed.FS

// Scenario is a named script for one vendor's HSMs.
type Scenario struct {
	Name        string `yaml:"name"`
	Vendor      string `yaml:"vendor"`
	Description string `yaml:"description"`
	Steps       []Step `yaml:"steps"`
}

// Step is one action at an offset. Exactly one action field is set.
type Step struct {
	At     Duration `yaml:"at"`
	Repeat int      `yaml:"repeat,omitempty"`
	Every  Duration `yaml:"every,omitempty"`
	Note   string   `yaml:"note,omitempty"`

	// Luna
	Sensor    *SensorAction    `yaml:"sensor,omitempty"`
	PSU       *PSUAction       `yaml:"psu,omitempty"`
	Alarm     *AlarmAction     `yaml:"alarm,omitempty"`
	Smart     *SmartAction     `yaml:"smart,omitempty"`
	NTLS      *NTLSAction      `yaml:"ntls,omitempty"`
	Partition *PartitionAction `yaml:"partition,omitempty"`
	// Dinamo
	Key         *KeyAction         `yaml:"key,omitempty"`
	LogTruncate *LogTruncateAction `yaml:"log_truncate,omitempty"`
	Battery     *BatteryAction     `yaml:"battery,omitempty"`
	// Both
	AuthFailure *AuthFailureAction `yaml:"auth_failure,omitempty"`
	Reboot      *RebootAction      `yaml:"reboot,omitempty"`
	Log         *LogAction         `yaml:"log,omitempty"`
	Trap        *TrapAction        `yaml:"trap,omitempty"`
	Set         *SetAction         `yaml:"set,omitempty"`
}

// SensorAction sets a Luna IPMI sensor's reading (Value), or gives it back to its normal
// wander (Auto). Crossing a threshold writes the ipmievd line and sends the sensor's trap.
type SensorAction struct {
	Name  string   `yaml:"name"`
	Value *float64 `yaml:"value,omitempty"`
	Auto  bool     `yaml:"auto,omitempty"`
}

// PSUAction changes a Luna power supply's discrete state: failed, ok, removed, inserted.
type PSUAction struct {
	Name  string `yaml:"name"` // PSU1 or PSU2
	State string `yaml:"state"`
}

// AlarmAction writes a Luna HSM ALM line (kernel, k7pf0) and sends cryptoAttentionNotify.
type AlarmAction struct {
	Code        string `yaml:"code"`                  // four digits
	Text        string `yaml:"text,omitempty"`        // default: the alarm-code spec's text
	Temperature int    `yaml:"temperature,omitempty"` // for the nnC of 0002 and 0013
}

// SmartAction writes a smartd line: a prefailure attribute change (Attribute, From, To)
// or a temperature limit (Temperature, Limit). Critical makes it crit (a disk drive
// trap), otherwise info.
type SmartAction struct {
	Device      string `yaml:"device"`
	Attribute   string `yaml:"attribute,omitempty"` // "5 Reallocated_Sector_Ct"
	From        int    `yaml:"from,omitempty"`
	To          int    `yaml:"to,omitempty"`
	Temperature int    `yaml:"temperature,omitempty"`
	Limit       int    `yaml:"limit,omitempty"`
	Critical    bool   `yaml:"critical,omitempty"`
}

// NTLSAction changes the Luna NTLS service: crash, stop, start.
type NTLSAction struct {
	State string `yaml:"state"`
}

// PartitionAction changes a Luna partition (by label or serial): objects and bytes used.
// Reset gives a named partition back the use it started with (an application deleting
// what it stored); without a partition it re-creates every partition the HSM started with
// and its label (an administrator initialising the HSM again after a zeroization). The
// appliance's log of the lunash commands is not simulated: only SNMP shows it.
type PartitionAction struct {
	Partition string `yaml:"partition,omitempty"`
	Grow      int64  `yaml:"grow,omitempty"`    // bytes added (negative frees)
	Objects   int    `yaml:"objects,omitempty"` // objects added (negative removes)
	Reset     bool   `yaml:"reset,omitempty"`
}

// KeyAction is a Dinamo key operation: create, destroy, export, import.
type KeyAction struct {
	Op         string `yaml:"op"`
	Name       string `yaml:"name"`
	Type       int    `yaml:"type,omitempty"` // the spec's algorithm id; default 6 (RSA 2048)
	Exportable bool   `yaml:"exportable,omitempty"`
	User       string `yaml:"user,omitempty"`
	Client     string `yaml:"client,omitempty"`
}

// LogTruncateAction clears the Dinamo event log (Logs - Clear).
type LogTruncateAction struct {
	User   string `yaml:"user,omitempty"`
	Client string `yaml:"client,omitempty"`
}

// BatteryAction sets the Dinamo tamper supervisor battery charge (hsmCryptoBattery, %),
// or gives it back to its normal wander (Auto: a new battery).
type BatteryAction struct {
	Percent int  `yaml:"percent"`
	Auto    bool `yaml:"auto,omitempty"`
}

// AuthFailureAction is one failed authentication. Luna services: ssh (sshd Failed
// password), ntls (a client failing the NTLS handshake; ntlsFailedClientConnections
// grows), hsm-admin (lunash HSM admin login; hsmAdminLoginAttempts goes down). Dinamo:
// a client failing to authenticate (authenticationFailure trap).
type AuthFailureAction struct {
	Service string `yaml:"service,omitempty"`
	User    string `yaml:"user,omitempty"`
	Client  string `yaml:"client,omitempty"`
}

// RebootAction restarts the HSM: uptimes and counters start again from zero.
type RebootAction struct{}

// LogAction writes one log line as given. Luna: facility, severity, process, pid,
// message; Trap names a SAFENET-APPLIANCE-MIB notification sent with an ssLogReference
// pointing at the line. Dinamo: Message is the event text, Trailer adds the client
// trailer.
type LogAction struct {
	Facility string `yaml:"facility,omitempty"`
	Severity string `yaml:"severity,omitempty"`
	Process  string `yaml:"process,omitempty"`
	PID      int    `yaml:"pid,omitempty"`
	Message  string `yaml:"message"`
	File     string `yaml:"file,omitempty"`
	Trap     string `yaml:"trap,omitempty"`
	Assert   *bool  `yaml:"assert,omitempty"`
	Trailer  bool   `yaml:"trailer,omitempty"`
}

// TrapAction sends one notification by name (Dinamo: any of the 30 events; Luna: any
// SAFENET-APPLIANCE-MIB notification, with Reference as the ssLogReference text).
type TrapAction struct {
	Name      string `yaml:"name"`
	Text      string `yaml:"text,omitempty"`
	Reference string `yaml:"reference,omitempty"`
}

// SetAction fixes an object's value (by its MIB name; Index for table columns).
type SetAction struct {
	Object string `yaml:"object"`
	Index  string `yaml:"index,omitempty"`
	Value  any    `yaml:"value"`
}

// Duration is a time.Duration written as "30s", "2m", "1h30m" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (30s, 2m, 1h30m): %w", n.Line, s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// action names the step's action and checks there is exactly one.
func (s *Step) action() (string, error) {
	var names []string
	add := func(set bool, n string) {
		if set {
			names = append(names, n)
		}
	}
	add(s.Sensor != nil, "sensor")
	add(s.PSU != nil, "psu")
	add(s.Alarm != nil, "alarm")
	add(s.Smart != nil, "smart")
	add(s.NTLS != nil, "ntls")
	add(s.Partition != nil, "partition")
	add(s.Key != nil, "key")
	add(s.LogTruncate != nil, "log_truncate")
	add(s.Battery != nil, "battery")
	add(s.AuthFailure != nil, "auth_failure")
	add(s.Reboot != nil, "reboot")
	add(s.Log != nil, "log")
	add(s.Trap != nil, "trap")
	add(s.Set != nil, "set")
	switch len(names) {
	case 0:
		return "", errors.New("no action")
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("more than one action: %s", strings.Join(names, ", "))
}

// vendorActions lists the actions each vendor's model knows.
func vendorActions(vendor string) (string, bool) {
	switch vendor {
	case VendorLuna:
		return " sensor psu alarm smart ntls partition auth_failure reboot log trap set ", true
	case VendorDinamo:
		return " key log_truncate battery auth_failure reboot log trap set ", true
	}
	return "", false
}

// ParseScenario reads one scenario and checks it: known fields only, a vendor, one
// action per step that the vendor's model knows, offsets not negative.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(path.Base(name), path.Ext(name))
	}
	known, ok := vendorActions(sc.Vendor)
	if !ok {
		return nil, fmt.Errorf("scenario %s: vendor %q: use dinamo or luna", name, sc.Vendor)
	}
	if len(sc.Steps) == 0 {
		return nil, fmt.Errorf("scenario %s: no steps", name)
	}
	for i := range sc.Steps {
		st := &sc.Steps[i]
		a, err := st.action()
		if err != nil {
			return nil, fmt.Errorf("scenario %s: step %d (at %s): %w", name, i+1, time.Duration(st.At), err)
		}
		if !strings.Contains(known, " "+a+" ") {
			return nil, fmt.Errorf("scenario %s: step %d: a %s HSM has no %s action", name, i+1, sc.Vendor, a)
		}
		if st.At < 0 || st.Every < 0 || st.Repeat < 0 {
			return nil, fmt.Errorf("scenario %s: step %d: negative at, every or repeat", name, i+1)
		}
		if st.Repeat > 1 && st.Every == 0 {
			return nil, fmt.Errorf("scenario %s: step %d: repeat needs every", name, i+1)
		}
	}
	return &sc, nil
}

// ShippedScenarios returns the names of the scenarios built into hsmwatch.
func ShippedScenarios() []string {
	entries, _ := fs.ReadDir(shippedScenarios, "scenarios")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadScenario reads a scenario from a file path or, when no such file exists and ref has
// no path separator, the shipped scenario of that name.
func LoadScenario(ref string) (*Scenario, error) {
	data, err := os.ReadFile(ref)
	if err == nil {
		return ParseScenario(ref, data)
	}
	if !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(ref, `/\`) {
		return nil, fmt.Errorf("scenario %s: %w", ref, err)
	}
	data, err2 := shippedScenarios.ReadFile("scenarios/" + strings.TrimSuffix(ref, ".yaml") + ".yaml")
	if err2 != nil {
		return nil, fmt.Errorf("scenario %q: no such file and no shipped scenario of that name (shipped: %s)",
			ref, strings.Join(ShippedScenarios(), ", "))
	}
	return ParseScenario(ref, data)
}

// Runner plays scenarios on one device. It is driven by RunUntil, from the fleet's loop
// or directly by a test with a Manual clock.
type Runner struct {
	dev   Device
	items []scheduled
	next  int

	// A cycling runner plays its plan again every period, from origin: cycle k's steps
	// are at origin + k*period + their offsets.
	period time.Duration
	origin time.Time
	cycle  int
	plan   []planned
}

type scheduled struct {
	at       time.Time
	step     *Step
	scenario string
}

// planned is one step of a cycle, at its offset from the cycle's start.
type planned struct {
	off      time.Duration
	step     *Step
	scenario string
}

// Entry is a scenario started at an offset from the start of each cycle (Cycle).
type Entry struct {
	Scenario *Scenario
	At       time.Duration
}

// NewRunner schedules the scenarios on dev, their offsets counted from start. A scenario
// for another vendor is an error.
func NewRunner(dev Device, start time.Time, scenarios ...*Scenario) (*Runner, error) {
	entries := make([]Entry, len(scenarios))
	for i, sc := range scenarios {
		entries[i] = Entry{Scenario: sc}
	}
	return newRunner(dev, start, 0, entries)
}

// NewCycle plays the entries on dev again and again: each cycle lasts period, the first
// starts at origin (which may lie in the past: the steps due are then run by the first
// RunUntil, in order). Every entry must end within its cycle, so that a scenario that
// restores what it broke leaves the device as the next cycle expects it.
func NewCycle(dev Device, origin time.Time, period time.Duration, entries ...Entry) (*Runner, error) {
	if period <= 0 {
		return nil, fmt.Errorf("%s: cycle %s: want a positive period", dev.Info().Name, period)
	}
	return newRunner(dev, origin, period, entries)
}

// newRunner plays the entries once (period 0) or every period.
func newRunner(dev Device, origin time.Time, period time.Duration, entries []Entry) (*Runner, error) {
	plan, err := planOf(dev, entries)
	if err != nil {
		return nil, err
	}
	if period == 0 {
		r := &Runner{dev: dev, origin: origin, plan: plan}
		r.schedule()
		return r, nil
	}
	if len(plan) == 0 {
		return nil, fmt.Errorf("%s: a cycle needs at least one scenario", dev.Info().Name)
	}
	if last := plan[len(plan)-1]; last.off >= period {
		return nil, fmt.Errorf("%s: scenario %s has a step at %s into the cycle, past its period %s", dev.Info().Name, last.scenario, last.off, period)
	}
	r := &Runner{dev: dev, origin: origin, period: period, plan: plan}
	r.schedule()
	return r, nil
}

func planOf(dev Device, entries []Entry) ([]planned, error) {
	var plan []planned
	for _, e := range entries {
		sc := e.Scenario
		if sc.Vendor != dev.Info().Vendor {
			return nil, fmt.Errorf("scenario %s is for %s HSMs, %s is a %s HSM", sc.Name, sc.Vendor, dev.Info().Name, dev.Info().Vendor)
		}
		if e.At < 0 {
			return nil, fmt.Errorf("scenario %s: negative offset %s", sc.Name, e.At)
		}
		for i := range sc.Steps {
			st := &sc.Steps[i]
			n := max(st.Repeat, 1)
			for k := 0; k < n; k++ {
				off := e.At + time.Duration(st.At) + time.Duration(k)*time.Duration(st.Every)
				plan = append(plan, planned{off: off, step: st, scenario: sc.Name})
			}
		}
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].off < plan[j].off })
	return plan, nil
}

// schedule lays out the current cycle's steps.
func (r *Runner) schedule() {
	start := r.origin.Add(time.Duration(r.cycle) * r.period)
	r.items = r.items[:0]
	for _, p := range r.plan {
		r.items = append(r.items, scheduled{at: start.Add(p.off), step: p.step, scenario: p.scenario})
	}
	r.next = 0
}

// roll starts the next cycle once the current one has run (cycling runners only).
func (r *Runner) roll() {
	if r.period > 0 && r.next >= len(r.items) {
		r.cycle++
		r.schedule()
	}
}

// Cycle is the number of the cycle whose steps come next (0 for the first; always 0
// without a period).
func (r *Runner) Cycle() int { return r.cycle }

// Next is when the next step is due; false when every step has run (never for a
// cycling runner).
func (r *Runner) Next() (time.Time, bool) {
	r.roll()
	if r.next >= len(r.items) {
		return time.Time{}, false
	}
	return r.items[r.next].at, true
}

// Done reports whether every step has run (never for a cycling runner).
func (r *Runner) Done() bool { return r.period == 0 && r.next >= len(r.items) }

// RunUntil applies, in order, every step due at or before now. A step that fails is
// reported and skipped: the rest of the scenario still runs.
func (r *Runner) RunUntil(ctx context.Context, now time.Time) error {
	var errs []error
	for {
		r.roll()
		if r.next >= len(r.items) || r.items[r.next].at.After(now) {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		it := r.items[r.next]
		r.next++
		if err := r.dev.Apply(ctx, it.step); err != nil {
			errs = append(errs, fmt.Errorf("%s: scenario %s at %s: %w", r.dev.Info().Name, it.scenario, time.Duration(it.step.At), err))
		}
	}
	return errors.Join(errs...)
}

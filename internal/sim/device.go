package sim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
)

// Var is one SNMP variable binding.
type Var = agent.Var

// Device is one simulated HSM.
type Device interface {
	// Info says what the device is, for listings.
	Info() Info
	// Tree is what its SNMP agent serves.
	Tree() *agent.MapTree
	// AgentConfig is the agent's configuration without the address: communities or
	// users, engine ID, tree.
	AgentConfig() agent.Config
	// Bind connects the device to what it talks through: the notifier that sends its
	// traps (its agent), the trap targets, the log sinks, and the agent's reboot.
	Bind(o Outputs)
	// Apply performs one scenario step's action now.
	Apply(ctx context.Context, s *Step) error
	// Tick runs the device's background activity (client sessions and the log lines they
	// write) up to now.
	Tick(ctx context.Context)
}

// Info describes a device.
type Info struct {
	Name   string // unique in a fleet
	Vendor string // "dinamo" or "luna"
	Serial string
	Host   string // host name in its log lines
}

// Vendor names.
const (
	VendorDinamo = "dinamo"
	VendorLuna   = "luna"
)

// Notifier sends one notification; *agent.Agent is one.
type Notifier interface {
	Notify(ctx context.Context, t agent.Target, trapOID string, vars []Var) error
}

// LogSink receives a device's log records; sinks format them (Luna file format, RFC 5424,
// Dinamo native) and are safe for concurrent use by many devices.
type LogSink interface {
	WriteLog(ctx context.Context, rec *LogRecord) error
}

// Outputs is where a device's traps and log lines go.
type Outputs struct {
	Notifier Notifier
	Targets  []agent.Target
	Logs     []LogSink
	// Reboot is called when the device reboots (the agent's engine boots count).
	Reboot func()
	// Observe, when set, sees every log record and trap the device emits, in order.
	Observe func(Emitted)
	Logger  *slog.Logger
}

// Emitted is one thing a device said: a log record or a trap.
type Emitted struct {
	Device string
	Log    *LogRecord
	Trap   *Trap
}

// Trap is a notification as the device sent it (to every target).
type Trap struct {
	Time time.Time
	Name string // the notification's name in the shipped MIB
	OID  string
	Vars []Var // after sysUpTime.0 and snmpTrapOID.0, which the agent adds
	// Errs holds the targets the notification could not be sent to.
	Errs []error
}

// emission is an output decided under the device's lock and sent after it is released
// (sending reads the tree, whose functions take the lock).
type emission struct {
	log  *LogRecord
	trap *Trap
}

// base is what every model shares.
type base struct {
	info  Info
	clock Clock
	seed  uint64
	loc   *time.Location
	tree  *agent.MapTree

	omu sync.RWMutex
	out Outputs

	mu   sync.Mutex // guards the model's state
	boot time.Time  // last (re)start
}

func newBase(info Info, clock Clock, seed uint64, loc *time.Location) base {
	if loc == nil {
		loc = time.UTC
	}
	if clock == nil {
		clock = Real{}
	}
	return base{info: info, clock: clock, seed: seed, loc: loc, tree: agent.NewMapTree(), boot: clock.Now()}
}

func (b *base) Info() Info           { return b.info }
func (b *base) Tree() *agent.MapTree { return b.tree }

func (b *base) Bind(o Outputs) {
	b.omu.Lock()
	defer b.omu.Unlock()
	b.out = o
}

func (b *base) outputs() Outputs {
	b.omu.RLock()
	defer b.omu.RUnlock()
	return b.out
}

func (b *base) logger() *slog.Logger {
	if l := b.outputs().Logger; l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// now is the clock's time in the device's zone.
func (b *base) now() time.Time { return b.clock.Now().In(b.loc) }

// uptimeTicks is the time since boot in hundredths of a second (TimeTicks).
func (b *base) uptimeTicks(now time.Time) uint32 {
	b.mu.Lock()
	boot := b.boot
	b.mu.Unlock()
	d := now.Sub(boot)
	if d < 0 {
		return 0
	}
	return uint32(d / (10 * time.Millisecond))
}

// set stores a fixed value; setFn a value computed on each read.
func (b *base) set(o *Object, index string, v any) { b.tree.Set(o.value(index, v)) }

func (b *base) setFn(o *Object, index string, fn func(now time.Time) any) {
	b.tree.SetFunc(o.instance(index), func() Var { return o.value(index, fn(b.now())) })
}

// emit sends what an action decided: log records to every sink, traps to every target.
// Failures are logged and kept in the Trap; they never stop a scenario (a trap receiver
// that is down must not stop the HSM).
func (b *base) emit(ctx context.Context, ems []emission) {
	if len(ems) == 0 {
		return
	}
	out := b.outputs()
	log := b.logger()
	for _, em := range ems {
		switch {
		case em.log != nil:
			for _, s := range out.Logs {
				if err := s.WriteLog(ctx, em.log); err != nil {
					log.Warn("sim: log sink", "device", b.info.Name, "err", err)
				}
			}
			if out.Observe != nil {
				out.Observe(Emitted{Device: b.info.Name, Log: em.log})
			}
		case em.trap != nil:
			if out.Notifier != nil {
				for _, t := range out.Targets {
					if err := out.Notifier.Notify(ctx, t, em.trap.OID, em.trap.Vars); err != nil {
						em.trap.Errs = append(em.trap.Errs, fmt.Errorf("trap %s to %s: %w", em.trap.Name, t.Addr, err))
						log.Warn("sim: notification", "device", b.info.Name, "trap", em.trap.Name, "target", t.Addr, "err", err)
					}
				}
			}
			if out.Observe != nil {
				out.Observe(Emitted{Device: b.info.Name, Trap: em.trap})
			}
		}
	}
}

// setOverride replaces an object's instance with a fixed value (a scenario's set).
func (b *base) setOverride(t *table, a *SetAction) error {
	o, ok := t.byName[a.Object]
	if !ok {
		return fmt.Errorf("set: no object %q in the %s model", a.Object, b.info.Vendor)
	}
	if o.Kind != Scalar && o.Kind != Column {
		return fmt.Errorf("set: %s is not a served object", a.Object)
	}
	if o.Kind == Column && a.Index == "" {
		return fmt.Errorf("set: %s is a table column: give its index", a.Object)
	}
	b.tree.Set(o.value(a.Index, a.Value))
	return nil
}

// reboot restarts the device's clocks; the caller holds b.mu.
func (b *base) rebootLocked(now time.Time) { b.boot = now }

// agentReboot tells the agent (engine boots) after the lock is released.
func (b *base) agentReboot() {
	if r := b.outputs().Reboot; r != nil {
		r()
	}
}

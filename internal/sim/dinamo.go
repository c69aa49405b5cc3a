package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
)

// DinamoConfig describes one simulated Dinamo HSM. Zero fields get defaults from the
// serial and the seed.
type DinamoConfig struct {
	Name            string // unique name in the fleet; default: the serial
	Serial          string // sysName; default TCA + 7 digits from the seed
	Model           string // default "ST"
	Firmware        string // default "5.0.22.0"
	HardwareProfile string // default "DXP"
	TPKeyID         string // default 8 hex digits from the seed
	Alias           string // hsmNodeAlias; default the name
	Contact         string // sysContact
	Location        string // sysLocation
	// Address is the HSM's IP address as its log trailers write it (with port 4433).
	Address string
	// TrapCommunity is the community of the v2c traps (the console's Trap Community Name).
	TrapCommunity string
	// Users is the number of HSM users (usrCount), Objects the objects in all partitions
	// (objCount) at start.
	Users, Objects int
	// LogBytes is the size of the event log at start (logSize).
	LogBytes int
	Seed     uint64
	Clock    Clock
	Zone     *time.Location // of the log's timestamps; default UTC
}

// Dinamo is a simulated Dinamo HSM.
type Dinamo struct {
	base
	cfg DinamoConfig

	// state, guarded by base.mu
	counter   uint32 // the log's event counter, reset at every start
	thread    uint32
	logBytes  int64
	objects   int
	keys      map[string]int // private keys by name: algorithm type
	users     int
	battery   *int
	sessions  []dinamoSession
	sessionNo uint64 // sessions ever opened, for their seeds
}

type dinamoSession struct {
	cid    uint32
	client string
	socket int
}

// NewDinamo builds the model and fills its tree.
func NewDinamo(cfg DinamoConfig) *Dinamo {
	seed := cfg.Seed
	if cfg.Serial == "" {
		cfg.Serial = fmt.Sprintf("TCA%07d", mix(seed)%10000000)
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Serial
	}
	seed = seedOf(seed, cfg.Serial)
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.Model, "ST")
	def(&cfg.Firmware, "5.0.22.0")
	def(&cfg.HardwareProfile, "DXP")
	def(&cfg.TPKeyID, fmt.Sprintf("%08X", uint32(mix(seed+7))))
	def(&cfg.Alias, cfg.Name)
	def(&cfg.Contact, "HSM operations <hsm-ops@example.com>")
	def(&cfg.Location, "Data center A, rack 12")
	def(&cfg.Address, "127.0.0.1")
	def(&cfg.TrapCommunity, "public")
	if cfg.Users == 0 {
		cfg.Users = 3
	}
	if cfg.Objects == 0 {
		cfg.Objects = 10 + int(mix(seed+3)%20)
	}
	if cfg.LogBytes == 0 {
		cfg.LogBytes = 34250
	}
	d := &Dinamo{
		base:     newBase(Info{Name: cfg.Name, Vendor: VendorDinamo, Serial: cfg.Serial, Host: cfg.Address}, cfg.Clock, seed, cfg.Zone),
		cfg:      cfg,
		logBytes: int64(cfg.LogBytes),
		objects:  cfg.Objects,
		users:    cfg.Users,
		keys:     map[string]int{},
		thread:   0x40 + uint32(mix(seed+5)%0x20),
	}
	d.build()
	return d
}

// AgentConfig implements Device: SNMP v2c, community public only (the spec: "The SNMP
// community for Get is always public").
func (d *Dinamo) AgentConfig() agent.Config {
	return agent.Config{Communities: []string{"public"}, Tree: d.tree}
}

// TrapTarget is a v2c trap target of this HSM (the console allows up to four).
func (d *Dinamo) TrapTarget(addr string) agent.Target {
	return agent.Target{Addr: addr, Version: gosnmp.Version2c, Community: d.cfg.TrapCommunity}
}

func (d *Dinamo) walk(name string, center, spread, lo, hi float64, period time.Duration) Walk {
	return Walk{Seed: seedOf(d.seed, name), Center: center, Spread: spread, Min: lo, Max: hi, Period: period}
}

const (
	dinamoBlockSize  = 4096
	dinamoBlockCount = 1 << 20 // 4 GiB of storage
)

func (d *Dinamo) build() {
	t := dinamoTable
	c := d.cfg
	d.set(t.get("sysDescr"), "", fmt.Sprintf("Dinamo HSM %s, serial %s, firmware %s, hardware profile %s, TPKEY ID %s",
		c.Model, c.Serial, c.Firmware, c.HardwareProfile, c.TPKeyID))
	d.set(t.get("sysObjectID"), "", dinamoSysObject)
	d.setFn(t.get("sysUpTime"), "", func(now time.Time) any { return d.uptimeTicks(now) })
	d.set(t.get("sysContact"), "", c.Contact)
	d.set(t.get("sysName"), "", c.Serial)
	d.set(t.get("sysLocation"), "", c.Location)
	buildInterfaces(&d.base, t, []netIf{
		{name: "lo", ifType: 24, mtu: 65536, rate: 2e3},
		{name: "eth0", ifType: 6, mtu: 1500, speed: 1e9, mac: macOf(d.seed, 0), rate: 4e5},
	})

	up := func(now time.Time) any { return d.uptimeTicks(now) }
	d.setFn(t.get("hsmUpTime"), "", up)
	cpu := d.walk("cpu", 14, 12, 1, 100, 20*time.Second)
	d.setFn(t.get("cpuLoadAverage"), "", func(now time.Time) any {
		d.mu.Lock()
		n := len(d.sessions)
		d.mu.Unlock()
		return math.Round(math.Min(100, cpu.At(now)+float64(n)))
	})
	d.set(t.get("totalMemory"), "", 100)
	avail := d.walk("memAvailable", 62, 10, 5, 95, time.Minute)
	d.setFn(t.get("usedMemory"), "", func(now time.Time) any { return math.Round(100 - avail.At(now)) })
	battery := d.walk("battery", 93, 3, 80, 100, 30*time.Minute)
	d.setFn(t.get("hsmCryptoBattery"), "", func(now time.Time) any {
		d.mu.Lock()
		b := d.battery
		d.mu.Unlock()
		if b != nil {
			return *b
		}
		return math.Round(battery.At(now))
	})
	d.set(t.get("diskBockSize"), "", dinamoBlockSize)
	d.set(t.get("diskBlockCount"), "", dinamoBlockCount)
	scratch := d.walk("disk", 600, 400, 0, 2000, 2*time.Minute)
	d.setFn(t.get("diskFreeBlockCount"), "", func(now time.Time) any {
		used := float64(d.usedBlocks()) + scratch.At(now)
		return math.Max(0, float64(dinamoBlockCount)-used)
	})
	d.set(t.get("hsmTamperingState"), "", 0)
	d.set(t.get("hsmNodeAlias"), "", c.Alias)
	d.setFn(t.get("usrCount"), "", func(time.Time) any { d.mu.Lock(); defer d.mu.Unlock(); return d.users })
	d.setFn(t.get("objCount"), "", func(time.Time) any { d.mu.Lock(); defer d.mu.Unlock(); return d.objects })
	d.setFn(t.get("slbeLen"), "", func(time.Time) any { return d.slbeLen() })
	d.setFn(t.get("logSize"), "", func(time.Time) any { d.mu.Lock(); defer d.mu.Unlock(); return d.logBytes })
	d.setFn(t.get("atokenCacheCount"), "", func(time.Time) any {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.sessions)
	})
	d.set(t.get("memTotal"), "", 100)
	d.setFn(t.get("memAvailable"), "", func(now time.Time) any { return math.Round(avail.At(now)) })
	for _, m := range []struct {
		name           string
		center, spread float64
	}{
		{"memBuffers", 3, 1}, {"memCached", 21, 5}, {"memActive", 28, 6}, {"memInactive", 14, 4},
		{"anonPages", 24, 6}, {"shMem", 1, 0.5}, {"kernelSlab", 5, 1}, {"kernelSReclaimable", 3, 1},
	} {
		w := d.walk(m.name, m.center, m.spread, 0, 100, time.Minute)
		d.setFn(t.get(m.name), "", func(now time.Time) any { return math.Round(w.At(now)) })
	}
	d.setFn(t.get("sessionCount"), "", func(time.Time) any { d.mu.Lock(); defer d.mu.Unlock(); return len(d.sessions) })
}

// slbeLen is the database size in 4 KB units: a base plus two blocks per object.
func (d *Dinamo) slbeLen() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return 512 + 2*d.objects + 4*d.users
}

// usedBlocks is the storage in use: system, database and log.
func (d *Dinamo) usedBlocks() int64 {
	db := int64(d.slbeLen())
	d.mu.Lock()
	lb := d.logBytes
	d.mu.Unlock()
	return 180000 + db + (lb+dinamoBlockSize-1)/dinamoBlockSize
}

// logLocked appends one event log record; trailer is "" for firmware events. It counts
// the record's bytes in logSize. The caller holds d.mu.
func (d *Dinamo) logLocked(now time.Time, cid uint32, text, trailer string) *LogRecord {
	d.counter++
	rec := &LogRecord{Vendor: VendorDinamo, Time: now, Host: d.cfg.Address, Thread: d.thread,
		Counter: d.counter, CID: cid, Message: text, Trailer: trailer}
	d.logBytes += int64(len(rec.Line()) + 1)
	return rec
}

func (d *Dinamo) trailer(client, user string) string {
	if user == "" {
		user = "-"
	}
	return client + " " + d.cfg.Address + ":4433 " + user
}

// trapLocked builds one of the 30 event notifications.
func (d *Dinamo) trapLocked(now time.Time, name, text string) (*Trap, error) {
	o, ok := dinamoTable.byName[name]
	if !ok || o.Kind != Notification {
		return nil, fmt.Errorf("trap: no Dinamo event %q (the 30 trap events of the Dinamo HSM SNMP documentation: %s)", name, dinamoEventNames())
	}
	if text == "" {
		for _, e := range dinamoEvents {
			if e.Name == name {
				text = e.Text
			}
		}
	}
	vt := dinamoTable.get("dinamoTrapEventText")
	return &Trap{Time: now, Name: name, OID: o.OID, Vars: []Var{{Name: vt.OID, Type: gosnmp.OctetString, Value: text}}}, nil
}

func dinamoEventNames() string {
	names := make([]string, len(dinamoEvents))
	for i, e := range dinamoEvents {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// session opens a client session in the log (auth try, init, ok) for user from client;
// the caller holds d.mu.
func (d *Dinamo) sessionLocked(now time.Time, client, user string) (dinamoSession, []emission) {
	d.sessionNo++
	h := mix(d.seed ^ d.sessionNo)
	s := dinamoSession{cid: uint32(h), client: client, socket: 16 + int(h>>32)%48}
	tr := d.trailer(client, "")
	ems := []emission{
		{log: d.logLocked(now, uint32(h>>16)|0x000A0000, "session thread up ["+strconv.Itoa(1+int(h>>40)%4)+"]", "")},
		{log: d.logLocked(now, s.cid, fmt.Sprintf("%s auth try, c: %d, tls: y, 2", client, s.socket), tr)},
		{log: d.logLocked(now, s.cid, fmt.Sprintf("%s auth init, c: %d", user, s.socket), tr)},
		{log: d.logLocked(now, s.cid, fmt.Sprintf("%s auth ok, %s, 2", user, client), tr)},
	}
	return s, ems
}

// clientFor is the client address of the session number n (10.20.x.y).
func (d *Dinamo) clientFor(n uint64) string {
	h := mix(d.seed ^ (n * 0x9e37))
	return fmt.Sprintf("10.20.%d.%d", h%4, 10+(h>>8)%200)
}

// Tick implements Device: client sessions come and go with a seeded walk; each new one
// writes its authentication lines, so sessionCount, logSize and the log agree.
func (d *Dinamo) Tick(ctx context.Context) {
	now := d.now()
	target := int(math.Round(d.walk("sessions", 5, 5, 0, 24, 40*time.Second).At(now)))
	d.mu.Lock()
	var ems []emission
	for opened := 0; len(d.sessions) < target && opened < 8; opened++ {
		s, e := d.sessionLocked(now, d.clientFor(d.sessionNo+1), "app")
		d.sessions = append(d.sessions, s)
		ems = append(ems, e...)
	}
	if len(d.sessions) > target {
		d.sessions = d.sessions[:target] // the spec documents no text for a session's end
	}
	d.mu.Unlock()
	d.emit(ctx, ems)
}

// Apply implements Device.
func (d *Dinamo) Apply(ctx context.Context, s *Step) error {
	now := d.now()
	switch {
	case s.Set != nil:
		return d.setOverride(dinamoTable, s.Set)
	case s.Reboot != nil:
		d.reboot(ctx, now)
		return nil
	}
	d.mu.Lock()
	ems, err := d.applyLocked(now, s)
	d.mu.Unlock()
	d.emit(ctx, ems)
	return err
}

// reboot sends hsmReboot (with the uptime before the reboot), restarts the HSM (uptime,
// the log's counter and the agent's engine boots start again), then sends serviceStarted.
func (d *Dinamo) reboot(ctx context.Context, now time.Time) {
	d.mu.Lock()
	before, _ := d.trapLocked(now, "hsmReboot", "")
	d.mu.Unlock()
	d.emit(ctx, []emission{{trap: before}})
	d.mu.Lock()
	d.rebootLocked(now)
	d.counter = 0
	d.sessions = nil
	d.thread = 0x40 + uint32(mix(d.seed^uint64(now.UnixNano()))%0x20)
	after, _ := d.trapLocked(now, "serviceStarted", "")
	d.mu.Unlock()
	d.agentReboot()
	d.emit(ctx, []emission{{trap: after}})
}

func (d *Dinamo) applyLocked(now time.Time, s *Step) (ems []emission, err error) {
	trap := func(name, text string) {
		t, terr := d.trapLocked(now, name, text)
		if terr != nil {
			err = terr
			return
		}
		ems = append(ems, emission{trap: t})
	}
	switch {
	case s.Key != nil:
		return d.keyLocked(now, s.Key)
	case s.LogTruncate != nil:
		user := or(s.LogTruncate.User, "master")
		client := or(s.LogTruncate.Client, "172.17.0.1")
		sess, e := d.sessionLocked(now, client, user)
		ems = append(ems, e...)
		d.logBytes = 0
		tr := d.trailer(client, user)
		ems = append(ems,
			emission{log: d.logLocked(now, sess.cid, "log truncated", tr)},
			emission{log: d.logLocked(now, sess.cid, user+" truncated log", tr)})
	case s.Battery != nil:
		if s.Battery.Auto {
			d.battery = nil
			break
		}
		if s.Battery.Percent < 0 || s.Battery.Percent > 100 {
			return nil, fmt.Errorf("battery: %d%% is not a percentage", s.Battery.Percent)
		}
		p := s.Battery.Percent
		d.battery = &p
	case s.AuthFailure != nil:
		user := or(s.AuthFailure.User, "master")
		client := or(s.AuthFailure.Client, "172.17.0.1")
		d.sessionNo++
		h := mix(d.seed ^ d.sessionNo)
		cid, sock := uint32(h), 16+int(h>>32)%48
		tr := d.trailer(client, "")
		// The spec documents no text for a failed authentication: this one follows the
		// documented "auth try" / "auth init" / "auth ok" records, as the catalog's
		// dinamo.auth-failure rule expects.
		ems = append(ems,
			emission{log: d.logLocked(now, cid, fmt.Sprintf("%s auth try, c: %d, tls: y, 2", client, sock), tr)},
			emission{log: d.logLocked(now, cid, fmt.Sprintf("%s auth init, c: %d", user, sock), tr)},
			emission{log: d.logLocked(now, cid, fmt.Sprintf("%s auth fail, %s, 2", user, client), tr)})
		trap("authenticationFailure", fmt.Sprintf("%s auth fail, %s", user, client))
	case s.Log != nil:
		l := s.Log
		d.sessionNo++
		cid := uint32(mix(d.seed ^ d.sessionNo))
		tr := ""
		if l.Trailer {
			tr = d.trailer("172.17.0.1", "master")
		}
		ems = append(ems, emission{log: d.logLocked(now, cid, l.Message, tr)})
		if l.Trap != "" {
			trap(l.Trap, l.Message)
		}
	case s.Trap != nil:
		trap(s.Trap.Name, s.Trap.Text)
	default:
		a, _ := s.action()
		return nil, fmt.Errorf("a Dinamo HSM has no %s action", a)
	}
	return ems, err
}

// keyLocked performs a key operation: the log records the spec documents for a key
// creation (new key, replication, priv key created), and the trap of the operation. The
// spec documents no log text for destroying, exporting or importing a key: those send
// their trap only.
func (d *Dinamo) keyLocked(now time.Time, k *KeyAction) (ems []emission, _ error) {
	if k.Name == "" {
		return nil, errors.New("key: no name")
	}
	user := or(k.User, "master")
	client := or(k.Client, "172.17.0.1")
	typ := k.Type
	if typ == 0 {
		typ = 6
	}
	var trapName string
	switch k.Op {
	case "create":
		if _, dup := d.keys[k.Name]; dup {
			return nil, fmt.Errorf("key: %s exists", k.Name)
		}
		sess, e := d.sessionLocked(now, client, user)
		ems = append(ems, e...)
		attr := 0
		if k.Exportable {
			attr = 1
		}
		tr := d.trailer(client, user)
		repl := fmt.Sprintf("%016X", mix(d.seed^uint64(now.UnixNano())))
		ems = append(ems,
			emission{log: d.logLocked(now, sess.cid, fmt.Sprintf("new key %s, t: %d, a: %d, c: %d", k.Name, typ, attr, sess.socket), tr)},
			emission{log: d.logLocked(now, sess.cid, "R_COOR trying to setup "+repl+" 04", tr)},
			emission{log: d.logLocked(now, sess.cid, "R_COOR prepared "+repl+" 04", tr)},
			emission{log: d.logLocked(now, sess.cid, "priv key "+k.Name+" created", tr)})
		d.keys[k.Name] = typ
		d.objects++
		trapName = "privateKeyCreated"
	case "destroy":
		if _, ok := d.keys[k.Name]; !ok {
			return nil, fmt.Errorf("key: no key %s to destroy", k.Name)
		}
		delete(d.keys, k.Name)
		d.objects--
		trapName = "privateKeyDestroyed"
	case "export":
		if _, ok := d.keys[k.Name]; !ok {
			return nil, fmt.Errorf("key: no key %s to export", k.Name)
		}
		trapName = "privateKeyExported"
	case "import":
		d.keys[k.Name] = typ
		d.objects++
		trapName = "privateKeyImported"
	default:
		return nil, fmt.Errorf("key: op %q: use create, destroy, export or import", k.Op)
	}
	t, err := d.trapLocked(now, trapName, fmt.Sprintf("%s: %s (user %s, client %s)", trapName, k.Name, user, client))
	if err != nil {
		return nil, err
	}
	return append(ems, emission{trap: t}), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

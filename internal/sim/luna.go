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

// LunaConfig describes one simulated Luna Network HSM 7 appliance. Zero fields get
// defaults from the seed.
type LunaConfig struct {
	Name     string // unique name in the fleet; default: the host name
	Hostname string // sysName and the host of its log lines; default luna-<serial>
	// IP is the address of the first Ethernet interface, as ssLogReference writes it.
	IP              string
	Serial          string // HSM serial number (hsmSerialNumber); default 6 digits from the seed
	Label           string // hsmLabel
	Model           string // hsmModel; default "Luna K7"
	Firmware        string // hsmFirmwareVersion; default "7.7.1"
	SoftwareVersion string // appSoftwareVersion; default "7.8.4"
	Contact         string
	Location        string
	Partitions      []PartitionConfig // default: three partitions
	// Users are the SNMPv3 USM users; TrapUser names the one traps are sent as (default
	// the first).
	Users    []agent.User
	TrapUser string
	// EngineID is the agent's SNMPv3 engine ID, also the one of its traps (the appliance's
	// "sysconf snmp trap set -engineid"); default derived from the serial.
	EngineID []byte
	Seed     uint64
	Clock    Clock
	Zone     *time.Location // of the log's timestamps; default UTC
}

// PartitionConfig is one application partition.
type PartitionConfig struct {
	Serial     string `yaml:"serial"`
	Label      string `yaml:"label"`
	TotalBytes int64  `yaml:"total_bytes"`
	UsedBytes  int64  `yaml:"used_bytes"`
	Objects    int    `yaml:"objects"`
}

// Luna is a simulated Luna Network HSM 7 appliance.
type Luna struct {
	base
	cfg      LunaConfig
	trapUser *agent.User

	// state, guarded by base.mu
	sensors       []*sensor
	psus          map[string]*psuState
	pids          map[string]int
	ntlsUp        bool
	ntlsStarted   time.Time // counters of the running NTLS grow from here
	ntlsOK        uint64    // successful connections of NTLS runs before the current one
	ntlsFailed    uint64    // failed connections (scenario), since boot
	partitions    []*partition
	label         string
	adminAttempts int
	diskMin       int
	diskMax       int
}

type partition struct {
	PartitionConfig
	activated bool
}

type psuState struct{ present, failed bool }

// NewLuna builds the model and fills its tree.
func NewLuna(cfg LunaConfig) *Luna {
	seed := cfg.Seed
	if cfg.Serial == "" {
		cfg.Serial = strconv.FormatUint(500000+mix(seed)%400000, 10)
	}
	seed = seedOf(seed, cfg.Serial)
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.Hostname, "luna-"+cfg.Serial)
	def(&cfg.Name, cfg.Hostname)
	def(&cfg.IP, "127.0.0.1")
	def(&cfg.Label, cfg.Hostname+"-hsm")
	def(&cfg.Model, "Luna K7")
	def(&cfg.Firmware, "7.7.1")
	def(&cfg.SoftwareVersion, "7.8.4")
	def(&cfg.Contact, "HSM operations <hsm-ops@example.com>")
	def(&cfg.Location, "Data center A, rack 14")
	if cfg.Partitions == nil {
		for i := 0; i < 3; i++ {
			total := int64(4 << 20)
			used := total * int64(25+mix(seed+uint64(i))%40) / 100
			cfg.Partitions = append(cfg.Partitions, PartitionConfig{
				Serial: fmt.Sprintf("%s%06d", cfg.Serial, 11+i), Label: fmt.Sprintf("par%d", i),
				TotalBytes: total, UsedBytes: used, Objects: int(used / 2600),
			})
		}
	}
	if cfg.EngineID == nil {
		// RFC 3411 format 4 (text) under the Chrysalis enterprise: 80 00 30 5F 04 "luna<serial>"
		cfg.EngineID = append([]byte{0x80, 0x00, 0x30, 0x5f, 0x04}, "luna"+cfg.Serial...)
	}
	l := &Luna{
		base:          newBase(Info{Name: cfg.Name, Vendor: VendorLuna, Serial: cfg.Serial, Host: cfg.Hostname}, cfg.Clock, seed, cfg.Zone),
		cfg:           cfg,
		psus:          map[string]*psuState{"PSU1": {present: true}, "PSU2": {present: true}},
		pids:          map[string]int{},
		ntlsUp:        true,
		label:         cfg.Label,
		adminAttempts: 3,
		diskMin:       31,
		diskMax:       38,
	}
	for i := range cfg.Users {
		if cfg.Users[i].Name == cfg.TrapUser || (cfg.TrapUser == "" && i == 0) {
			l.trapUser = &cfg.Users[i]
		}
	}
	l.ntlsStarted = l.boot
	for _, p := range cfg.Partitions {
		l.partitions = append(l.partitions, &partition{PartitionConfig: p, activated: true})
	}
	l.newPIDs()
	l.sensors = lunaSensors(seed)
	l.build()
	return l
}

// AgentConfig implements Device: SNMP v3 only, the configured USM users.
func (l *Luna) AgentConfig() agent.Config {
	return agent.Config{Users: l.cfg.Users, EngineID: l.cfg.EngineID, Tree: l.tree}
}

// TrapTarget is a v3 trap target of this appliance, sent as its trap user (nil when the
// appliance has no user).
func (l *Luna) TrapTarget(addr string) (agent.Target, bool) {
	if l.trapUser == nil {
		return agent.Target{}, false
	}
	return agent.Target{Addr: addr, Version: gosnmp.Version3, User: l.trapUser}, true
}

// EngineID is the agent's engine ID (for a trap receiver's createUser -e).
func (l *Luna) EngineID() []byte { return l.cfg.EngineID }

func (l *Luna) newPIDs() {
	for i, p := range []string{"ipmievd", "smartd", "NTLS", "lunash", "sshd", "oamp"} {
		l.pids[p] = 1000 + int(mix(l.seed^uint64(i)^uint64(l.boot.UnixNano()))%30000)
	}
}

// ---- IPMI sensors ----

// sensor is one IPMI sensor of the guide's table 1 (its text, thresholds and
// hysteresis), with the reading it shows in LM-SENSORS.
type sensor struct {
	text       string // as written in the ipmievd line: "Fan1A .", "PSU2_+12V_value."
	typ        string // Fan, Temperature, Voltage
	unit       string // RPM, Degrees, Volts
	decimals   int
	lm         string // LM-SENSORS table: temp, fan, volt
	walk       Walk
	hyst       float64
	thresholds []threshold // in the order they assert
	notify     string      // the trap category (Lsta: by sensor name)
	override   *float64
	asserted   []bool
}

type threshold struct {
	desc  string // Lower Critical, Lower Non-recoverable, Upper Critical, Upper Non-recoverable
	low   bool
	value float64
}

func (s *sensor) name() string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s.text), "."))
}

func (s *sensor) reading(now time.Time) float64 {
	if s.override != nil {
		return *s.override
	}
	return s.walk.At(now)
}

func (s *sensor) format(v float64) string { return strconv.FormatFloat(v, 'f', s.decimals, 64) }

// lunaSensors is the guide's table 1 (Luna Network HSM 7 Appliance Sensors): sensors
// without memory installed ("ns" readings) are left out. The normal wander of each
// reading stays clear of its thresholds and their hysteresis.
func lunaSensors(seed uint64) []*sensor {
	lc, lnr := "Lower Critical", "Lower Non-recoverable"
	uc, unr := "Upper Critical", "Upper Non-recoverable"
	var out []*sensor
	add := func(text, typ string, decimals int, hyst float64, notify string, center, spread, lo, hi float64, th ...threshold) {
		unit, lm := map[string]string{"Fan": "RPM", "Temperature": "Degrees", "Voltage": "Volts"}[typ], map[string]string{"Fan": "fan", "Temperature": "temp", "Voltage": "volt"}[typ]
		s := &sensor{text: text, typ: typ, unit: unit, decimals: decimals, lm: lm, hyst: hyst, notify: notify, thresholds: th, asserted: make([]bool, len(th))}
		s.walk = Walk{Seed: seedOf(seed, text), Center: center, Spread: spread, Min: lo, Max: hi, Period: 30 * time.Second}
		out = append(out, s)
	}
	fan, mb, psu := "fanAttentionNotify", "motherboardAttentionNotify", "powerSupplyAttentionNotify"
	for _, f := range []string{"Fan1A", "Fan1B", "Fan2A", "Fan2B", "Fan3A", "Fan3B"} {
		add(f+" .", "Fan", 0, 500, fan, 5200, 700, 3000, 7500, threshold{lc, true, 2000}, threshold{lnr, true, 1000})
	}
	add("CPU .", "Temperature", 0, 3, mb, 38, 8, 25, 60, threshold{uc, false, 72}, threshold{unr, false, 89})
	add("VRD .", "Temperature", 0, 3, mb, 45, 6, 30, 80, threshold{uc, false, 90}, threshold{unr, false, 100})
	add("PCH .", "Temperature", 0, 3, mb, 52, 6, 35, 80, threshold{uc, false, 90}, threshold{unr, false, 100})
	add("Inlet .", "Temperature", 0, 3, mb, 24, 4, 15, 34, threshold{uc, false, 39}, threshold{unr, false, 45})
	add("CHA DIMM 0 .", "Temperature", 0, 3, mb, 36, 5, 25, 70, threshold{uc, false, 87}, threshold{unr, false, 97})
	add("CHB DIMM 0 .", "Temperature", 0, 3, mb, 35, 5, 25, 70, threshold{uc, false, 87}, threshold{unr, false, 97})
	add("CPU_VCORE .", "Voltage", 3, 0, mb, 0.95, 0.08, 0.7, 1.3, threshold{lc, true, 0.63}, threshold{uc, false, 1.44})
	add("VBAT .", "Voltage", 2, 0, mb, 3.05, 0.05, 2.95, 3.2, threshold{lc, true, 2.796})
	add("3VSB .", "Voltage", 3, 0, mb, 3.3, 0.04, 3.15, 3.44, threshold{lc, true, 3.092}, threshold{uc, false, 3.492})
	add("3VMain .", "Voltage", 3, 0, mb, 3.3, 0.04, 3.15, 3.44, threshold{lc, true, 3.092}, threshold{uc, false, 3.492})
	add("+5V .", "Voltage", 3, 0, mb, 5.0, 0.06, 4.8, 5.2, threshold{lc, true, 4.692}, threshold{uc, false, 5.304})
	add("+12V .", "Voltage", 3, 0, mb, 12.05, 0.1, 11.5, 12.6, threshold{lc, true, 11.284}, threshold{uc, false, 12.740})
	for _, n := range []string{"1", "2"} {
		add("PSU"+n+"_+12V_value.", "Voltage", 3, 0, psu, 12.1, 0.08, 11.6, 12.8, threshold{lnr, true, 11.232}, threshold{unr, false, 13.392})
		add("PSU"+n+" Temp_value.", "Temperature", 0, 1, psu, 38, 6, 25, 80, threshold{unr, false, 115})
		add("PSU"+n+" FAN_value .", "Fan", 0, 100, psu, 3800, 500, 2000, 6000, threshold{lnr, true, 300})
	}
	return out
}

func (l *Luna) sensorNamed(name string) (*sensor, error) {
	var names []string
	for _, s := range l.sensors {
		if strings.EqualFold(s.name(), name) {
			return s, nil
		}
		names = append(names, s.name())
	}
	return nil, fmt.Errorf("no sensor %q (sensors: %s)", name, strings.Join(names, ", "))
}

// setReadingLocked moves a sensor to v (nil: back to its wander) and writes the ipmievd
// threshold events IPMI would: asserts in threshold order when a reading crosses a
// threshold, de-asserts in the reverse order once it is back past the hysteresis. Each
// line is followed by the sensor's trap, asserted (1) or de-asserted (0).
func (l *Luna) setReadingLocked(now time.Time, s *sensor, v *float64) []emission {
	s.override = v
	r := s.reading(now)
	var ems []emission
	line := func(i int, assert bool) {
		t := s.thresholds[i]
		dir, op := "high", ">"
		if t.low {
			dir, op = "low", "<"
		}
		msg := fmt.Sprintf("%s sensor %s %s going %s (Reading %s %s Threshold %s %s)",
			s.typ, s.text, t.desc, dir, s.format(r), op, s.format(t.value), s.unit)
		rec := l.logLocked(now, "local4", "notice", "ipmievd", msg)
		ems = append(ems, emission{log: rec}, emission{trap: l.trapLocked(now, s.notify, rec, assert)})
	}
	for i := len(s.thresholds) - 1; i >= 0; i-- {
		t := s.thresholds[i]
		if s.asserted[i] && ((t.low && r >= t.value+s.hyst) || (!t.low && r <= t.value-s.hyst)) {
			s.asserted[i] = false
			line(i, false)
		}
	}
	for i, t := range s.thresholds {
		if !s.asserted[i] && ((t.low && r <= t.value) || (!t.low && r >= t.value)) {
			s.asserted[i] = true
			line(i, true)
		}
	}
	return ems
}

// ---- the tree ----

func (l *Luna) build() {
	t := lunaTable
	c := l.cfg
	l.set(t.get("sysDescr"), "", "Linux "+c.Hostname+" 4.18.0-513.el8.x86_64 #1 SMP x86_64")
	l.set(t.get("sysObjectID"), "", lunaSysObjectID)
	l.setFn(t.get("sysUpTime"), "", func(now time.Time) any { return l.uptimeTicks(now) })
	l.set(t.get("sysContact"), "", c.Contact)
	l.set(t.get("sysName"), "", c.Hostname)
	l.set(t.get("sysLocation"), "", c.Location)
	l.set(t.get("sysServices"), "", 72)
	buildInterfaces(&l.base, t, []netIf{
		{name: "lo", ifType: 24, mtu: 65536, rate: 5e3},
		{name: "eth0", ifType: 6, mtu: 1500, speed: 1e9, mac: macOf(l.seed, 0), rate: 6e5},
		{name: "eth1", ifType: 6, mtu: 1500, speed: 1e9, mac: macOf(l.seed, 1), rate: 2e4},
	})
	boot := func() time.Time { l.mu.Lock(); defer l.mu.Unlock(); return l.boot }
	counter := func(name string, rate float64) {
		c := Counter{Seed: seedOf(l.seed, name), Rate: rate}
		l.setFn(t.get(name), "", func(now time.Time) any { return c.Since(boot(), now) })
	}
	// The guide (chapter 5): luna-snmp, sysstatd and NTLS poll the HSM, about 12
	// operations a second, and one in sixty fails.
	counter("hsmOperationRequests", 12.3)
	counter("hsmOperationErrors", 0.19)
	l.set(t.get("hsmCriticalEvents"), "", uint64(0)) // "always reports 0"
	l.set(t.get("hsmNonCriticalEvents"), "", uint64(0))
	l.setFn(t.get("ntlsOperStatus"), "", func(time.Time) any {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.ntlsUp {
			return 1
		}
		return 2
	})
	clients := Walk{Seed: seedOf(l.seed, "ntlsClients"), Center: 4, Spread: 4, Min: 0, Max: 16, Period: 45 * time.Second}
	l.setFn(t.get("ntlsConnectedClients"), "", func(now time.Time) any { return l.ntlsClients(now, clients) })
	links := Walk{Seed: seedOf(l.seed, "ntlsLinks"), Center: 2, Spread: 2, Min: 0, Max: 6, Period: 30 * time.Second}
	l.setFn(t.get("ntlsLinks"), "", func(now time.Time) any {
		n := l.ntlsClients(now, clients)
		if n == 0 {
			return 0
		}
		return n + int(math.Round(links.At(now)))
	})
	okConn := Counter{Seed: seedOf(l.seed, "ntlsOK"), Rate: 0.05}
	l.setFn(t.get("ntlsSuccessfulClientConnections"), "", func(now time.Time) any {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.ntlsUp {
			return l.ntlsOK
		}
		return l.ntlsOK + okConn.Since(l.ntlsStarted, now)
	})
	l.setFn(t.get("ntlsFailedClientConnections"), "", func(time.Time) any {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.ntlsFailed
	})

	// hsmTable: one row, the appliance's HSM.
	row := stringIndex(c.Serial)
	l.set(t.get("hsmSerialNumber"), row, c.Serial)
	l.set(t.get("hsmFirmwareVersion"), row, c.Firmware)
	l.setFn(t.get("hsmLabel"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return l.label })
	l.set(t.get("hsmModel"), row, c.Model)
	l.set(t.get("hsmAuthenticationMethod"), row, 2) // password(2)
	l.set(t.get("hsmRpvInitialized"), row, 1)       // notSupported(1): password authentication
	l.set(t.get("hsmFipsMode"), row, truth(true))
	l.set(t.get("hsmPerformance"), row, 15)
	l.set(t.get("hsmStorageTotalBytes"), row, lunaStorageBytes)
	l.setFn(t.get("hsmStorageAllocatedBytes"), row, func(time.Time) any { return l.allocated() })
	l.setFn(t.get("hsmStorageAvailableBytes"), row, func(time.Time) any { return lunaStorageBytes - l.allocated() })
	l.set(t.get("hsmMaximumPartitions"), row, lunaMaxPartitions)
	l.setFn(t.get("hsmPartitionsCreated"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return len(l.partitions) })
	l.setFn(t.get("hsmPartitionsFree"), row, func(time.Time) any {
		l.mu.Lock()
		defer l.mu.Unlock()
		return lunaMaxPartitions - len(l.partitions)
	})
	l.set(t.get("hsmBackupProtocol"), row, 3) // cloning(3)
	l.setFn(t.get("hsmAdminLoginAttempts"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return l.adminAttempts })
	l.set(t.get("hsmAuditRoleInitialized"), row, 2) // no(2)
	l.set(t.get("hsmManuallyZeroized"), row, truth(false))
	l.setFn(t.get("hsmUpTime"), row, func(now time.Time) any { return uint64(max(0, now.Sub(boot())/time.Second)) })
	busy := Counter{Seed: seedOf(l.seed, "busy"), Rate: 0.02}
	l.setFn(t.get("hsmBusyTime"), row, func(now time.Time) any { return busy.Since(boot(), now) })
	cmds := Counter{Seed: seedOf(l.seed, "cmds"), Rate: 12.3}
	l.setFn(t.get("hsmCommandCount"), row, func(now time.Time) any { return cmds.Since(boot(), now) })
	l.buildPartitions()

	l.set(t.get("appSoftwareVersion"), "", c.SoftwareVersion)
	l.buildUCD()
	l.buildSensors()
}

const (
	lunaStorageBytes  = 32 << 20
	lunaMaxPartitions = 10
)

func (l *Luna) ntlsClients(now time.Time, w Walk) int {
	l.mu.Lock()
	up := l.ntlsUp
	l.mu.Unlock()
	if !up {
		return 0
	}
	return int(math.Round(w.At(now)))
}

func (l *Luna) allocated() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, p := range l.partitions {
		n += p.TotalBytes
	}
	return n
}

var partitionColumns = []string{"hsmPartitionSerialNumber", "hsmPartitionLabel", "hsmPartitionActivated",
	"hsmPartitionStorageTotalBytes", "hsmPartitionStorageAllocatedBytes", "hsmPartitionStorageAvailableBytes",
	"hsmPartitionObjectCount"}

// buildPartitions (re)writes the partition table's rows. It takes no lock on the model:
// call it without l.mu held, or from build.
func (l *Luna) buildPartitions() {
	t := lunaTable
	for _, col := range partitionColumns {
		l.tree.DeletePrefix(t.get(col).OID)
	}
	l.mu.Lock()
	parts := append([]*partition(nil), l.partitions...)
	l.mu.Unlock()
	hsm := stringIndex(l.cfg.Serial)
	for _, p := range parts {
		row := hsm + "." + stringIndex(p.Serial)
		l.set(t.get("hsmPartitionSerialNumber"), row, p.Serial)
		l.set(t.get("hsmPartitionLabel"), row, p.Label)
		l.setFn(t.get("hsmPartitionActivated"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return truth(p.activated) })
		l.set(t.get("hsmPartitionStorageTotalBytes"), row, p.TotalBytes)
		l.setFn(t.get("hsmPartitionStorageAllocatedBytes"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return p.UsedBytes })
		l.setFn(t.get("hsmPartitionStorageAvailableBytes"), row, func(time.Time) any {
			l.mu.Lock()
			defer l.mu.Unlock()
			return p.TotalBytes - p.UsedBytes
		})
		l.setFn(t.get("hsmPartitionObjectCount"), row, func(time.Time) any { l.mu.Lock(); defer l.mu.Unlock(); return p.Objects })
	}
}

// buildUCD fills UCD-SNMP-MIB memory (kB) and systemStats.
func (l *Luna) buildUCD() {
	t := lunaTable
	const totalReal, totalSwap = 16318368, 8388604
	w := func(name string, center, spread, lo, hi float64) Walk {
		return Walk{Seed: seedOf(l.seed, name), Center: center, Spread: spread, Min: lo, Max: hi, Period: time.Minute}
	}
	availReal := w("memAvailReal", 10.8e6, 1.2e6, 2e6, 15e6)
	availSwap := w("memAvailSwap", totalSwap-20000, 15000, totalSwap-200000, totalSwap)
	round := func(w Walk) func(time.Time) any {
		return func(now time.Time) any { return math.Round(w.At(now)) }
	}
	l.set(t.get("memIndex"), "", 0)
	l.set(t.get("memErrorName"), "", "swap")
	l.set(t.get("memTotalSwap"), "", totalSwap)
	l.setFn(t.get("memAvailSwap"), "", round(availSwap))
	l.set(t.get("memTotalReal"), "", totalReal)
	l.setFn(t.get("memAvailReal"), "", round(availReal))
	l.setFn(t.get("memTotalFree"), "", func(now time.Time) any { return math.Round(availReal.At(now) + availSwap.At(now)) })
	l.set(t.get("memMinimumSwap"), "", 16000)
	l.setFn(t.get("memShared"), "", round(w("memShared", 210000, 30000, 50000, 400000)))
	l.setFn(t.get("memBuffer"), "", round(w("memBuffer", 420000, 60000, 100000, 800000)))
	l.setFn(t.get("memCached"), "", round(w("memCached", 3.1e6, 4e5, 1e6, 5e6)))
	l.set(t.get("memSwapError"), "", 0)
	l.set(t.get("memSwapErrorMsg"), "", "")

	const cpus = 4
	user := w("ssCpuUser", 4, 3, 0, 60)
	system := w("ssCpuSystem", 2, 1.5, 0, 30)
	l.set(t.get("ssIndex"), "", 1)
	l.set(t.get("ssErrorName"), "", "systemStats")
	l.set(t.get("ssSwapIn"), "", 0)
	l.set(t.get("ssSwapOut"), "", 0)
	l.setFn(t.get("ssIOSent"), "", round(w("ssIOSent", 40, 30, 0, 500)))
	l.setFn(t.get("ssIOReceive"), "", round(w("ssIOReceive", 8, 6, 0, 200)))
	l.setFn(t.get("ssSysInterrupts"), "", round(w("ssSysInterrupts", 900, 300, 100, 5000)))
	l.setFn(t.get("ssSysContext"), "", round(w("ssSysContext", 1800, 600, 200, 9000)))
	l.setFn(t.get("ssCpuUser"), "", round(user))
	l.setFn(t.get("ssCpuSystem"), "", round(system))
	l.setFn(t.get("ssCpuIdle"), "", func(now time.Time) any {
		return math.Max(0, 100-math.Round(user.At(now))-math.Round(system.At(now)))
	})
	boot := func() time.Time { l.mu.Lock(); defer l.mu.Unlock(); return l.boot }
	raw := func(name string, rate float64) {
		c := Counter{Seed: seedOf(l.seed, name), Rate: rate}
		l.setFn(t.get(name), "", func(now time.Time) any { return uint32(c.Since(boot(), now)) })
	}
	// USER_HZ is 100 ticks a second per CPU.
	raw("ssCpuRawUser", 100*cpus*0.04)
	raw("ssCpuRawNice", 100*cpus*0.001)
	raw("ssCpuRawSystem", 100*cpus*0.02)
	raw("ssCpuRawIdle", 100*cpus*0.93)
	raw("ssCpuRawWait", 100*cpus*0.005)
	raw("ssCpuRawKernel", 100*cpus*0.02)
	raw("ssCpuRawInterrupt", 100*cpus*0.002)
	raw("ssIORawSent", 80)
	raw("ssIORawReceived", 16)
	raw("ssRawInterrupts", 900)
	raw("ssRawContexts", 1800)
	raw("ssCpuRawSoftIRQ", 100*cpus*0.003)
	l.set(t.get("ssCpuNumCpus"), "", cpus)
}

// buildSensors fills the LM-SENSORS tables from the IPMI sensors: temperatures in mC,
// fans in RPM, voltages in mV.
func (l *Luna) buildSensors() {
	t := lunaTable
	idx := map[string]int{}
	cols := map[string][3]string{
		"temp": {"lmTempSensorsIndex", "lmTempSensorsDevice", "lmTempSensorsValue"},
		"fan":  {"lmFanSensorsIndex", "lmFanSensorsDevice", "lmFanSensorsValue"},
		"volt": {"lmVoltSensorsIndex", "lmVoltSensorsDevice", "lmVoltSensorsValue"},
	}
	for _, s := range l.sensors {
		idx[s.lm]++
		n := idx[s.lm]
		row := strconv.Itoa(n)
		c := cols[s.lm]
		scale := 1000.0
		if s.lm == "fan" {
			scale = 1
		}
		l.set(t.get(c[0]), row, n)
		l.set(t.get(c[1]), row, s.name())
		l.setFn(t.get(c[2]), row, func(now time.Time) any {
			l.mu.Lock()
			v := s.reading(now)
			l.mu.Unlock()
			return math.Max(0, math.Round(v*scale))
		})
	}
}

// ---- log lines and traps ----

// logLocked writes one appliance log record; the caller holds l.mu.
func (l *Luna) logLocked(now time.Time, facility, severity, process, msg string) *LogRecord {
	rec := &LogRecord{Vendor: VendorLuna, Time: now, Host: l.cfg.Hostname, Facility: facility,
		Severity: severity, Process: process, PID: l.pids[process], Message: msg, File: lunaLogFile(facility)}
	switch process {
	case "NTLS", "lunash":
		rec.SpacedPID = true // lunalog applications write "NTLS [1234]:"
	}
	return rec
}

// LogReference is the ssLogReference text of rec: [host:ip / file / date / process[pid] /
// 1|0], the date with single spaces (as the trap shows it).
func (l *Luna) LogReference(rec *LogRecord, assert bool) string {
	a := 0
	if assert {
		a = 1
	}
	return fmt.Sprintf("[%s:%s / %s / %s / %s / %d]", l.cfg.Hostname, l.cfg.IP, rec.File,
		rec.Time.Format("2006 Jan 2 15:04:05"), rec.procRef(), a)
}

// trapLocked is the SAFENET-APPLIANCE-MIB notification for rec. ssLogReference is sent
// without an instance suffix, as the guide's trap log shows it.
func (l *Luna) trapLocked(now time.Time, name string, rec *LogRecord, assert bool) *Trap {
	o := lunaTable.get(name)
	ref := lunaTable.get(ssLogReferenceName)
	return &Trap{Time: now, Name: name, OID: o.OID, Vars: []Var{{Name: ref.OID, Type: gosnmp.OctetString, Value: l.LogReference(rec, assert)}}}
}

// Tick implements Device. The appliance's moving values are functions of the clock; it
// has no background log activity.
func (l *Luna) Tick(context.Context) {}

// Apply implements Device.
func (l *Luna) Apply(ctx context.Context, s *Step) error {
	now := l.now()
	if s.Set != nil {
		return l.setOverride(lunaTable, s.Set)
	}
	l.mu.Lock()
	ems, eff, err := l.applyLocked(now, s)
	l.mu.Unlock()
	if eff.partitions {
		l.buildPartitions()
	}
	if eff.rebooted {
		l.agentReboot()
	}
	l.emit(ctx, ems)
	return err
}

type effects struct{ partitions, rebooted bool }

func (l *Luna) applyLocked(now time.Time, s *Step) (ems []emission, eff effects, err error) {
	logTrap := func(fac, sev, proc, msg, notify string, assert bool) {
		rec := l.logLocked(now, fac, sev, proc, msg)
		ems = append(ems, emission{log: rec})
		if notify != "" {
			ems = append(ems, emission{trap: l.trapLocked(now, notify, rec, assert)})
		}
	}
	switch {
	case s.Sensor != nil:
		sn, e := l.sensorNamed(s.Sensor.Name)
		if e != nil {
			return nil, eff, fmt.Errorf("sensor: %w", e)
		}
		if s.Sensor.Value == nil && !s.Sensor.Auto {
			return nil, eff, errors.New("sensor: give value or auto: true")
		}
		ems = l.setReadingLocked(now, sn, s.Sensor.Value)
	case s.PSU != nil:
		return l.psuLocked(now, s.PSU)
	case s.Alarm != nil:
		return l.alarmLocked(now, s.Alarm)
	case s.Smart != nil:
		m := s.Smart
		dev := or(m.Device, "/dev/sda")
		sev, notify := "info", ""
		if m.Critical || m.Temperature > 0 {
			sev, notify = "crit", "diskDriveAttentionNotify"
		}
		var msg string
		switch {
		case m.Temperature > 0:
			l.diskMin, l.diskMax = min(l.diskMin, m.Temperature), max(l.diskMax, m.Temperature)
			crit := ""
			if m.Critical {
				crit = "critical "
			}
			msg = fmt.Sprintf("Device: %s, Temperature %d Celsius reached %slimit of %d Celsius (Min/Max %d/%d)",
				dev, m.Temperature, crit, m.Limit, l.diskMin, l.diskMax)
		case m.Attribute != "":
			msg = fmt.Sprintf("Device: %s, SMART Prefailure Attribute: %s changed from %d to %d", dev, m.Attribute, m.From, m.To)
		default:
			return nil, eff, errors.New("smart: give attribute (with from and to) or temperature (with limit)")
		}
		logTrap("daemon", sev, "smartd", msg, notify, true)
	case s.NTLS != nil:
		switch s.NTLS.State {
		case "crash":
			if !l.ntlsUp {
				return nil, eff, errors.New("ntls: not running")
			}
			logTrap("local5", "crit", "NTLS", "info : 0 : NTLS CRASH AND BURN! Stack dump saved to /var/log/ntls_bt_"+
				now.Format("2006-01-02_15:04:05"), "ntlsAttentionNotify", true)
			l.ntlsStopLocked(now)
		case "stop":
			if !l.ntlsUp {
				return nil, eff, errors.New("ntls: not running")
			}
			logTrap("local5", "info", "NTLS", "info : 0 : Shutting down NTLS....", "", true)
			l.ntlsStopLocked(now)
		case "start":
			if l.ntlsUp {
				return nil, eff, errors.New("ntls: already running")
			}
			l.pids["NTLS"] = 1000 + int(mix(l.seed^uint64(now.UnixNano()))%30000)
			l.ntlsUp, l.ntlsStarted = true, now
			logTrap("local5", "info", "NTLS", "info : 0 : Starting up NTLS.....", "", true)
		default:
			return nil, eff, fmt.Errorf("ntls: state %q: use crash, stop or start", s.NTLS.State)
		}
	case s.Partition != nil:
		if s.Partition.Reset && s.Partition.Partition == "" {
			l.partitions = nil
			for _, pc := range l.cfg.Partitions {
				l.partitions = append(l.partitions, &partition{PartitionConfig: pc, activated: true})
			}
			l.label = l.cfg.Label
			eff.partitions = true
			break
		}
		p := l.partitionNamed(s.Partition.Partition)
		if p == nil {
			return nil, eff, fmt.Errorf("partition: no partition %q", s.Partition.Partition)
		}
		if s.Partition.Reset {
			for _, pc := range l.cfg.Partitions {
				if pc.Serial == p.Serial {
					p.UsedBytes, p.Objects = pc.UsedBytes, pc.Objects
				}
			}
			break
		}
		p.UsedBytes = min(p.TotalBytes, max(0, p.UsedBytes+s.Partition.Grow))
		p.Objects = max(0, p.Objects+s.Partition.Objects)
	case s.AuthFailure != nil:
		a := s.AuthFailure
		client := or(a.Client, "192.168.0.100")
		switch or(a.Service, "ssh") {
		case "ssh":
			port := 40000 + int(mix(l.seed^uint64(now.UnixNano()))%20000)
			logTrap("authpriv", "info", "sshd", fmt.Sprintf("Failed password for %s from %s port %d ssh2", or(a.User, "admin"), client, port), "", true)
		case "ntls":
			l.ntlsFailed++
			port := 40000 + int(mix(l.seed^uint64(now.UnixNano()))%20000)
			logTrap("local5", "info", "NTLS", fmt.Sprintf("info : 0xc0000711 : Fail to establish a secure channel with client : %s/%d : RC_SSL_FAILED_HANDSHAKE", client, port), "", true)
		case "hsm-admin":
			l.adminAttempts = max(0, l.adminAttempts-1)
			logTrap("local5", "warning", "lunash", "HSM Admin Login: incorrect password or PED key", "", true)
			if l.adminAttempts == 0 {
				logTrap("local5", "warning", "lunash", "HSM Admin Login: HSM Zeroized due to three consecutive bad login attempts.", "", true)
				l.zeroizeLocked()
				eff.partitions = true
			}
		default:
			return nil, eff, fmt.Errorf("auth_failure: service %q: use ssh, ntls or hsm-admin", a.Service)
		}
	case s.Reboot != nil:
		up := now.Sub(l.boot)
		logTrap("syslog", "info", "lush", fmt.Sprintf("uptime before reboot: %s up %s, 1 user, load average: 0.09, 0.04, 0.01",
			now.Format("15:04:05"), uptimeText(up)), "", true)
		l.rebootLocked(now)
		l.newPIDs()
		l.ntlsUp, l.ntlsStarted, l.ntlsOK, l.ntlsFailed = true, now, 0, 0
		for _, sn := range l.sensors {
			for i := range sn.asserted {
				sn.asserted[i] = false
			}
			sn.override = nil
		}
		logTrap("user", "notice", "root", "Starting snmpd", "", true)
		ems = append(ems, emission{trap: &Trap{Time: now, Name: "coldStart", OID: lunaTable.get("coldStart").OID}})
		logTrap("local6", "info", "oamp", "----- HSM Logging started", "", true)
		logTrap("local5", "info", "NTLS", "info : 0 : Starting up NTLS.....", "", true)
		eff.rebooted = true
	case s.Log != nil:
		g := s.Log
		if g.Facility == "" || g.Severity == "" || g.Process == "" {
			return nil, eff, errors.New("log: facility, severity and process are needed")
		}
		rec := l.logLocked(now, g.Facility, g.Severity, g.Process, g.Message)
		if g.PID != 0 {
			rec.PID = g.PID
		}
		if g.File != "" {
			rec.File = g.File
		}
		ems = append(ems, emission{log: rec})
		if g.Trap != "" {
			if o, ok := lunaTable.byName[g.Trap]; !ok || o.Kind != Notification {
				return nil, eff, fmt.Errorf("log: no notification %q", g.Trap)
			}
			assert := g.Assert == nil || *g.Assert
			ems = append(ems, emission{trap: l.trapLocked(now, g.Trap, rec, assert)})
		}
	case s.Trap != nil:
		o, ok := lunaTable.byName[s.Trap.Name]
		if !ok || o.Kind != Notification {
			return nil, eff, fmt.Errorf("trap: no notification %q", s.Trap.Name)
		}
		tr := &Trap{Time: now, Name: o.Name, OID: o.OID}
		if o.Module == safenetApplModule {
			tr.Vars = []Var{{Name: lunaTable.get(ssLogReferenceName).OID, Type: gosnmp.OctetString, Value: s.Trap.Reference}}
		}
		ems = append(ems, emission{trap: tr})
	default:
		a, _ := s.action()
		return nil, eff, fmt.Errorf("a Luna HSM has no %s action", a)
	}
	return ems, eff, nil
}

func (l *Luna) ntlsStopLocked(now time.Time) {
	okConn := Counter{Seed: seedOf(l.seed, "ntlsOK"), Rate: 0.05}
	l.ntlsOK += okConn.Since(l.ntlsStarted, now)
	l.ntlsUp = false
}

func (l *Luna) partitionNamed(name string) *partition {
	for _, p := range l.partitions {
		if p.Label == name || p.Serial == name {
			return p
		}
	}
	return nil
}

// zeroizeLocked erases what a zeroization erases: partitions, their objects, the label.
func (l *Luna) zeroizeLocked() {
	l.partitions = nil
	l.label = ""
	l.adminAttempts = 3
}

// psuLocked changes a power supply's discrete state: the ipmievd discrete event line
// and its trap, then its +12V and fan readings (0 while it is failed or removed), whose
// threshold events follow.
func (l *Luna) psuLocked(now time.Time, a *PSUAction) (ems []emission, eff effects, err error) {
	p, ok := l.psus[strings.ToUpper(a.Name)]
	if !ok {
		return nil, eff, fmt.Errorf("psu: no power supply %q (PSU1, PSU2)", a.Name)
	}
	name := strings.ToUpper(a.Name)
	var event string
	var assert bool
	switch a.State {
	case "failed":
		p.failed, event, assert = true, "Failure detected Asserted", true
	case "ok":
		p.failed, event, assert = false, "Failure detected Deasserted", false
	case "removed":
		p.present, event, assert = false, "Presence detected Deasserted", false
	case "inserted":
		p.present, event, assert = true, "Presence detected Asserted", true
	default:
		return nil, eff, fmt.Errorf("psu: state %q: use failed, ok, removed or inserted", a.State)
	}
	rec := l.logLocked(now, "local4", "notice", "ipmievd", "Power Supply sensor "+name+"_Status . - "+event)
	ems = append(ems, emission{log: rec}, emission{trap: l.trapLocked(now, "powerSupplyAttentionNotify", rec, assert)})
	var v *float64
	if p.failed || !p.present {
		zero := 0.0
		v = &zero
	}
	for _, sn := range l.sensors {
		if n := sn.name(); n == name+"_+12V_value" || n == name+" FAN_value" {
			ems = append(ems, l.setReadingLocked(now, sn, v)...)
		}
	}
	return ems, eff, nil
}

// uptimeText writes a duration as uptime(1) does: "8 min", "6:50", "3 days, 4:05".
func uptimeText(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	days := int(d / (24 * time.Hour))
	h, m := int(d/time.Hour)%24, int(d/time.Minute)%60
	if days == 0 {
		return fmt.Sprintf("%d:%02d", h, m)
	}
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	return fmt.Sprintf("%d %s, %d:%02d", days, unit, h, m)
}

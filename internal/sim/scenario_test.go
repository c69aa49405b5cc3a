package sim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

// checkpoint runs assertions at an offset of a scenario, after the steps due then.
type checkpoint struct {
	at time.Duration
	fn func(t *testing.T, dev Device, soFar []Emitted)
}

// play runs a scenario on a fresh device of its vendor with a Manual clock, stopping at
// every step and checkpoint, and returns everything the device emitted.
func play(t *testing.T, sc *Scenario, checks ...checkpoint) (Device, []Emitted) {
	t.Helper()
	clock := NewManual(t0)
	var dev Device
	if sc.Vendor == VendorLuna {
		dev = testLuna(clock)
	} else {
		dev = testDinamo(clock)
	}
	rec := &recorder{}
	bind(dev, rec)
	r, err := NewRunner(dev, t0, sc)
	if err != nil {
		t.Fatal(err)
	}
	var stops []time.Duration
	for _, it := range r.items {
		stops = append(stops, it.at.Sub(t0))
	}
	for _, c := range checks {
		stops = append(stops, c.at)
	}
	sort.Slice(stops, func(i, j int) bool { return stops[i] < stops[j] })
	var all []Emitted
	ci := 0
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].at < checks[j].at })
	for _, at := range stops {
		clock.Set(t0.Add(at))
		if err := r.RunUntil(t.Context(), clock.Now()); err != nil {
			t.Fatalf("%s at %s: %v", sc.Name, at, err)
		}
		all = append(all, rec.take()...)
		for ci < len(checks) && checks[ci].at <= at {
			checks[ci].fn(t, dev, all)
			ci++
		}
	}
	if !r.Done() {
		t.Fatalf("%s: steps left", sc.Name)
	}
	// every trap went to the target, with the varbinds the device built
	if n := len(rec.traps(all)); len(rec.sent) != n {
		t.Errorf("%s: %d traps emitted, %d sent to the target", sc.Name, n, len(rec.sent))
	}
	return dev, all
}

// classified is a log line as hsmwatch reads it.
type classified struct {
	rec  *LogRecord
	line string
	ev   event.Event
	rule *classify.Rule
}

// classifyAll parses every emitted log line with internal/parse (auto, as hsmwatch scan
// does) and classifies it with the shipped catalog. A line that does not parse in the
// device's format, or that only a catch-all rule knows, fails the test. Luna lines are
// also checked in RFC 5424, as the appliance forwards them.
func classifyAll(t *testing.T, cat *classify.Catalog, all []Emitted) []classified {
	t.Helper()
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: t0})
	if err != nil {
		t.Fatal(err)
	}
	var out []classified
	for _, e := range all {
		if e.Log == nil {
			continue
		}
		c := classified{rec: e.Log, line: e.Log.Line()}
		parse.Into(p, c.line, &c.ev)
		want := event.SourceLunaSyslog
		if e.Log.Vendor == VendorDinamo {
			want = event.SourceDinamoLog
		}
		if c.ev.Source != want {
			t.Errorf("%q parses as %s (%s), want %s", c.line, c.ev.Source, c.ev.Reason, want)
			continue
		}
		if !c.ev.Time.Equal(e.Log.Time) {
			t.Errorf("%q: parsed time %v, written %v", c.line, c.ev.Time, e.Log.Time)
		}
		c.rule = cat.Classify(&c.ev)
		if c.rule == nil || c.rule.Class == "unknown" || strings.HasSuffix(c.rule.ID, ".unknown") {
			t.Errorf("%q: no specific rule classifies it (%v)", c.line, c.rule)
			continue
		}
		if e.Log.Vendor == VendorLuna {
			var ev5 event.Event
			line5 := FormatLine(e.Log, FormatRFC5424)
			parse.Into(p, line5, &ev5)
			if ev5.Source != event.SourceRFC5424 {
				t.Errorf("%q parses as %s (%s)", line5, ev5.Source, ev5.Reason)
			} else if r5 := cat.Classify(&ev5); r5 == nil || r5.ID != c.rule.ID {
				t.Errorf("%q classifies as %v, its file form as %s", line5, r5, c.rule.ID)
			}
		}
		out = append(out, c)
	}
	return out
}

var refShape = regexp.MustCompile(`^\[([^:\]]+):([^ ]+) / (\S+) / (\d{4} \w{3} \d{1,2} \d\d:\d\d:\d\d) / (\S+) / ([01])\]$`)

// checkLunaTraps checks the consistency of a Luna scenario's log lines and traps: every
// line the catalog gives a trap category is followed by that trap, every
// SAFENET-APPLIANCE-MIB trap follows the line its ssLogReference points at, and the
// reference's assert flag is the line's (IPMI lines assert and de-assert; Lsta sends 1
// for every other event, the guide's caveat 4).
func checkLunaTraps(t *testing.T, l *Luna, all []Emitted, lines []classified) {
	t.Helper()
	byRec := map[*LogRecord]classified{}
	for _, c := range lines {
		byRec[c.rec] = c
	}
	var last *LogRecord
	pending := map[*LogRecord]bool{}
	for _, e := range all {
		if e.Log != nil {
			last = e.Log
			if c, ok := byRec[e.Log]; ok && c.ev.Notification != "" {
				pending[e.Log] = true
			}
			continue
		}
		tr := e.Trap
		if tr.Name == "coldStart" {
			continue
		}
		if last == nil {
			t.Errorf("trap %s with no log line before it", tr.Name)
			continue
		}
		c := byRec[last]
		if c.ev.Notification != tr.Name {
			t.Errorf("trap %s after %q, which the catalog files under %q", tr.Name, c.line, c.ev.Notification)
		}
		delete(pending, last)
		if len(tr.Vars) != 1 || tr.Vars[0].Name != lunaTable.get("ssLogReference").OID {
			t.Fatalf("trap %s varbinds %v: want one ssLogReference", tr.Name, tr.Vars)
		}
		ref := tr.Vars[0].Value.(string)
		m := refShape.FindStringSubmatch(ref)
		if m == nil {
			t.Errorf("ssLogReference %q has not the guide's shape", ref)
			continue
		}
		if m[1] != last.Host || m[2] != l.cfg.IP || m[3] != last.File || m[4] != last.Time.Format("2006 Jan 2 15:04:05") || m[5] != last.procRef() {
			t.Errorf("ssLogReference %q does not point at %q (file %s)", ref, c.line, last.File)
		}
		wantBit := "1"
		if last.Process == "ipmievd" && c.ev.Assert == event.False {
			wantBit = "0"
		}
		if m[6] != wantBit {
			t.Errorf("ssLogReference %q: assert %s, the line %q says %s", ref, m[6], c.line, wantBit)
		}
	}
	for rec := range pending {
		t.Errorf("%q has a trap category but no trap followed it", byRec[rec].line)
	}
}

func loadCatalog(t *testing.T) *classify.Catalog {
	t.Helper()
	c, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestShippedScenariosConsistent plays every shipped scenario and checks that each log
// line parses and classifies, and that traps and lines agree.
func TestShippedScenariosConsistent(t *testing.T) {
	cat := loadCatalog(t)
	names := ShippedScenarios()
	if len(names) < 14 {
		t.Fatalf("%d shipped scenarios: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sc, err := LoadScenario(name)
			if err != nil {
				t.Fatal(err)
			}
			dev, all := play(t, sc)
			lines := classifyAll(t, cat, all)
			if l, ok := dev.(*Luna); ok {
				checkLunaTraps(t, l, all, lines)
			}
			for _, e := range all {
				if e.Trap != nil && len(e.Trap.Errs) > 0 {
					t.Errorf("trap %s: %v", e.Trap.Name, e.Trap.Errs)
				}
			}
		})
	}
}

// trapSummary is "name:bit" for Luna traps, "name" otherwise.
func trapSummary(all []Emitted) []string {
	var out []string
	for _, e := range all {
		if e.Trap == nil {
			continue
		}
		s := e.Trap.Name
		if len(e.Trap.Vars) == 1 {
			if ref, ok := e.Trap.Vars[0].Value.(string); ok && strings.HasPrefix(ref, "[") {
				s += ":" + ref[len(ref)-2:len(ref)-1]
			}
		}
		out = append(out, s)
	}
	return out
}

func messages(all []Emitted) []string {
	var out []string
	for _, e := range all {
		if e.Log != nil {
			out = append(out, e.Log.Message)
		}
	}
	return out
}

func wantTraps(t *testing.T, all []Emitted, want ...string) {
	t.Helper()
	if got := trapSummary(all); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("traps %v\nwant  %v", got, want)
	}
}

func wantNum(t *testing.T, dev Device, tab *table, name, index string, want int64) {
	t.Helper()
	if got := num(t, get(t, dev, tab, name, index)); got != want {
		t.Errorf("%s.%s = %d, want %d", name, index, got, want)
	}
}

func mustScenario(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const hsmRow = "6.53.51.50.48.49.56" // "532018"

func TestScenarioFanFailure(t *testing.T) {
	var fan string
	fanValue := func(want int64) func(*testing.T, Device, []Emitted) {
		return func(t *testing.T, d Device, _ []Emitted) {
			if fan == "" {
				fan = sensorRow(t, d.(*Luna), "fan", "Fan1A")
			}
			wantNum(t, d, lunaTable, "lmFanSensorsValue", fan, want)
		}
	}
	_, all := play(t, mustScenario(t, "luna-fan-failure"),
		checkpoint{35 * time.Second, fanValue(1600)},
		checkpoint{45 * time.Second, fanValue(500)},
		checkpoint{2*time.Minute + 5*time.Second, fanValue(15900)},
		checkpoint{4*time.Minute + 5*time.Second, func(t *testing.T, d Device, _ []Emitted) {
			if v := num(t, get(t, d, lunaTable, "lmFanSensorsValue", fan)); v < 3000 || v > 7500 {
				t.Errorf("Fan1A after recovery: %d RPM", v)
			}
		}},
	)
	wantTraps(t, all, "fanAttentionNotify:1", "fanAttentionNotify:1", "fanAttentionNotify:0", "fanAttentionNotify:0")
	want := []string{
		"Fan sensor Fan1A . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)",
		"Fan sensor Fan1A . Lower Non-recoverable going low (Reading 500 < Threshold 1000 RPM)",
		"Fan sensor Fan1A . Lower Non-recoverable going low (Reading 15900 < Threshold 1000 RPM)",
		"Fan sensor Fan1A . Lower Critical going low (Reading 15900 < Threshold 2000 RPM)",
	}
	if got := messages(all); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines %q\nwant  %q", got, want)
	}
}

func TestScenarioPowerSupplyLoss(t *testing.T) {
	rows := func(d Device) (string, string) {
		l := d.(*Luna)
		return sensorRow(t, l, "volt", "PSU2_+12V_value"), sensorRow(t, l, "fan", "PSU2 FAN_value")
	}
	_, all := play(t, mustScenario(t, "luna-power-supply-loss"),
		checkpoint{31 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			v, f := rows(d)
			wantNum(t, d, lunaTable, "lmVoltSensorsValue", v, 0)
			wantNum(t, d, lunaTable, "lmFanSensorsValue", f, 0)
		}},
		checkpoint{6 * time.Minute, func(t *testing.T, d Device, _ []Emitted) {
			v, _ := rows(d)
			if mv := num(t, get(t, d, lunaTable, "lmVoltSensorsValue", v)); mv < 11600 || mv > 12800 {
				t.Errorf("PSU2 +12V after replacement: %d mV", mv)
			}
		}},
	)
	p := "powerSupplyAttentionNotify"
	wantTraps(t, all, p+":1", p+":1", p+":1", p+":0", p+":0", p+":0")
}

func TestScenarioCPUOverTemperature(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-cpu-over-temperature"),
		checkpoint{91 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "lmTempSensorsValue", sensorRow(t, d.(*Luna), "temp", "CPU"), 92000)
		}})
	m := "motherboardAttentionNotify"
	wantTraps(t, all, m+":1", m+":1", m+":0", m+":0")
}

func TestScenarioDiskSmart(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-disk-smart-critical"))
	d := "diskDriveAttentionNotify"
	wantTraps(t, all, d+":1", d+":1", d+":1")
}

func TestScenarioNTLSCrash(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-ntls-crash"),
		checkpoint{31 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "ntlsOperStatus", "", 2)
			wantNum(t, d, lunaTable, "ntlsConnectedClients", "", 0)
			wantNum(t, d, lunaTable, "ntlsLinks", "", 0)
		}},
		checkpoint{91 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "ntlsOperStatus", "", 1)
		}})
	wantTraps(t, all, "ntlsAttentionNotify:1")
	if msgs := messages(all); len(msgs) != 2 || !strings.Contains(msgs[0], "CRASH AND BURN") || !strings.Contains(msgs[1], "Starting up NTLS") {
		t.Errorf("lines %q", msgs)
	}
}

func TestScenarioTamperZeroize(t *testing.T) {
	partitions := func(n int64) func(*testing.T, Device, []Emitted) {
		return func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "hsmPartitionsCreated", hsmRow, n)
			rows := 0
			for _, v := range walkTree(t, d.Tree()) {
				if strings.HasPrefix(v.Name, lunaTable.get("hsmPartitionSerialNumber").OID+".") {
					rows++
				}
			}
			if int64(rows) != n {
				t.Errorf("%d partition rows, want %d", rows, n)
			}
		}
	}
	_, all := play(t, mustScenario(t, "luna-tamper-zeroize"),
		checkpoint{3 * time.Minute, partitions(3)},
		checkpoint{4*time.Minute + 2*time.Second, func(t *testing.T, d Device, so []Emitted) {
			partitions(0)(t, d, so)
			if got := get(t, d, lunaTable, "hsmLabel", hsmRow).Value; got != "" {
				t.Errorf("hsmLabel after zeroization = %q", got)
			}
		}})
	var codes []string
	for _, m := range messages(all) {
		codes = append(codes, regexp.MustCompile(`ALM(\d{4})`).FindStringSubmatch(m)[1])
	}
	if want := "[2001 0002 0004 1007 1001 2015 2010 2005 2006 2007 2011 2002]"; fmt.Sprint(codes) != want {
		t.Errorf("ALM sequence %v, want %s", codes, want)
	}
	if n := len(trapSummary(all)); n != 12 {
		t.Errorf("%d cryptoAttentionNotify traps, want 12", n)
	}
}

func TestScenarioLunaBatteryLow(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-battery-low"),
		checkpoint{61 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "lmVoltSensorsValue", sensorRow(t, d.(*Luna), "volt", "VBAT"), 2610)
		}})
	wantTraps(t, all, "cryptoAttentionNotify:1", "motherboardAttentionNotify:1", "motherboardAttentionNotify:0")
}

func TestScenarioPartitionFilling(t *testing.T) {
	var start, total int64
	par0 := hsmRow + "." + stringIndex("532018000011")
	_, all := play(t, mustScenario(t, "luna-partition-filling"),
		checkpoint{0, func(t *testing.T, d Device, _ []Emitted) {
			start = num(t, get(t, d, lunaTable, "hsmPartitionStorageAllocatedBytes", par0))
			total = num(t, get(t, d, lunaTable, "hsmPartitionStorageTotalBytes", par0))
		}},
		checkpoint{31 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "hsmPartitionStorageAllocatedBytes", par0, start+262144)
			wantNum(t, d, lunaTable, "hsmPartitionStorageAvailableBytes", par0, total-start-262144)
		}},
		checkpoint{9 * time.Minute, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "hsmPartitionStorageAvailableBytes", par0, 0)
			wantNum(t, d, lunaTable, "hsmPartitionStorageAllocatedBytes", par0, total)
		}})
	if len(all) != 0 {
		t.Errorf("a filling partition wrote %d lines or traps; the appliance writes none", len(all))
	}
}

func TestScenarioLunaAuthFailures(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-auth-failures"),
		checkpoint{2 * time.Minute, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "ntlsFailedClientConnections", "", 4)
			wantNum(t, d, lunaTable, "hsmAdminLoginAttempts", hsmRow, 1)
		}})
	if n := len(messages(all)); n != 12 {
		t.Errorf("%d lines, want 12", n)
	}
	wantTraps(t, all)
}

func TestScenarioLunaReboot(t *testing.T) {
	_, all := play(t, mustScenario(t, "luna-reboot"),
		checkpoint{4*time.Minute + 59*time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "sysUpTime", "", 29900)
			wantNum(t, d, lunaTable, "hsmUpTime", hsmRow, 299)
		}},
		checkpoint{5*time.Minute + 10*time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, lunaTable, "sysUpTime", "", 1000)
			wantNum(t, d, lunaTable, "hsmUpTime", hsmRow, 10)
			if n := num(t, get(t, d, lunaTable, "hsmOperationRequests", "")); n > 400 {
				t.Errorf("hsmOperationRequests 10 s after the reboot = %d: not reset", n)
			}
		}})
	wantTraps(t, all, "coldStart")
	if msgs := messages(all); len(msgs) != 4 || !strings.HasPrefix(msgs[0], "uptime before reboot: 10:05:00 up 5 min") {
		t.Errorf("lines %q", msgs)
	}
}

func TestScenarioDinamoKeyLifecycle(t *testing.T) {
	var objects int64
	dev, all := play(t, mustScenario(t, "dinamo-key-lifecycle"),
		checkpoint{0, func(t *testing.T, d Device, _ []Emitted) {
			objects = num(t, get(t, d, dinamoTable, "objCount", ""))
		}},
		checkpoint{31 * time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, dinamoTable, "objCount", "", objects+1)
		}})
	wantTraps(t, all, "privateKeyCreated", "privateKeyExported")
	var tail []*LogRecord
	for _, e := range all {
		if e.Log != nil {
			tail = append(tail, e.Log)
		}
	}
	last2 := tail[len(tail)-2:]
	if last2[0].Message != "log truncated" || last2[1].Message != "master truncated log" {
		t.Fatalf("last lines %q, %q", last2[0].Message, last2[1].Message)
	}
	wantNum(t, dev, dinamoTable, "logSize", "", int64(len(last2[0].Line())+1+len(last2[1].Line())+1))
	// the counter runs on through the clear: it is reset only when the HSM starts
	for i := 1; i < len(tail); i++ {
		if tail[i].Counter != tail[i-1].Counter+1 {
			t.Errorf("counter %d after %d", tail[i].Counter, tail[i-1].Counter)
		}
	}
}

func TestScenarioDinamoBatteryLow(t *testing.T) {
	at := func(p int64) func(*testing.T, Device, []Emitted) {
		return func(t *testing.T, d Device, _ []Emitted) { wantNum(t, d, dinamoTable, "hsmCryptoBattery", "", p) }
	}
	_, all := play(t, mustScenario(t, "dinamo-battery-low"),
		checkpoint{31 * time.Second, at(40)}, checkpoint{2*time.Minute + time.Second, at(20)}, checkpoint{5 * time.Minute, at(5)})
	if len(all) != 0 {
		t.Errorf("%d lines or traps; the Dinamo has none for its battery", len(all))
	}
}

func TestScenarioDinamoAuthFailures(t *testing.T) {
	_, all := play(t, mustScenario(t, "dinamo-auth-failures"))
	var want []string
	for i := 0; i < 8; i++ {
		want = append(want, "authenticationFailure")
	}
	wantTraps(t, all, want...)
}

func TestScenarioDinamoReboot(t *testing.T) {
	_, all := play(t, mustScenario(t, "dinamo-reboot"),
		checkpoint{5*time.Minute + 5*time.Second, func(t *testing.T, d Device, _ []Emitted) {
			wantNum(t, d, dinamoTable, "sysUpTime", "", 500)
			wantNum(t, d, dinamoTable, "hsmUpTime", "", 500)
		}})
	wantTraps(t, all, "hsmReboot", "serviceStarted", "privateKeyCreated")
	if logs := (&recorder{}).logs(all); len(logs) == 0 || logs[0].Counter != 1 {
		t.Errorf("the first record after the reboot has counter %v, want 1", logs)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"vendor: luna\nsteps:\n  - at: 1s\n", "no action"},
		{"vendor: luna\nsteps:\n  - at: 1s\n    key: {op: create, name: k}\n", "a luna HSM has no key action"},
		{"vendor: dinamo\nsteps:\n  - at: 1s\n    battery: {percent: 5}\n    reboot: {}\n", "more than one action"},
		{"vendor: ibm\nsteps: []\n", "vendor"},
		{"vendor: luna\nsteps:\n  - at: soon\n    reboot: {}\n", "not a duration"},
		{"vendor: luna\nstep:\n  - at: 1s\n", "field step not found"},
		{"vendor: luna\nsteps:\n  - at: 1s\n    repeat: 3\n    reboot: {}\n", "repeat needs every"},
	} {
		_, err := ParseScenario("x.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := LoadScenario("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "luna-fan-failure") {
		t.Errorf("unknown scenario: %v (should list the shipped ones)", err)
	}
}

func TestStepErrorsDoNotStopTheScenario(t *testing.T) {
	clock := NewManual(t0)
	l := testLuna(clock)
	rec := &recorder{}
	bind(l, rec)
	sc, err := ParseScenario("x", []byte("vendor: luna\nsteps:\n  - at: 1s\n    sensor: {name: Fan9Z, value: 1}\n  - at: 2s\n    alarm: {code: \"2007\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewRunner(l, t0, sc)
	clock.Add(time.Minute)
	err = r.RunUntil(t.Context(), clock.Now())
	if err == nil || !strings.Contains(err.Error(), "Fan9Z") {
		t.Errorf("error %v", err)
	}
	if n := len(rec.take()); n != 2 {
		t.Errorf("the alarm after the failed step emitted %d things, want a line and a trap", n)
	}
}

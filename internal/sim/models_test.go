package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// checkTree walks a model's tree and checks that every scalar and column of its table is
// served, with values of the object's type that the encoder takes.
func checkTree(t *testing.T, dev Device, tab *table) []Var {
	t.Helper()
	vars := walkTree(t, dev.Tree())
	if len(vars) < 50 {
		t.Fatalf("walk returns %d variables", len(vars))
	}
	for _, o := range tab.list {
		switch o.Kind {
		case Scalar:
			v, ok := dev.Tree().Get(o.OID + ".0")
			if !ok {
				t.Errorf("%s::%s.0 is not served", o.Module, o.Name)
				continue
			}
			checkValue(t, &o, v)
		case Column:
			n := 0
			for _, v := range vars {
				if strings.HasPrefix(v.Name, o.OID+".") {
					n++
					checkValue(t, &o, v)
				}
			}
			if n == 0 {
				t.Errorf("%s::%s has no row", o.Module, o.Name)
			}
		}
	}
	return vars
}

func checkValue(t *testing.T, o *Object, v Var) {
	t.Helper()
	if v.Type != o.Syntax.ber() {
		t.Errorf("%s %s: type %v, want %v", o.Name, v.Name, v.Type, o.Syntax.ber())
	}
	ok := false
	switch v.Type {
	case gosnmp.OctetString, gosnmp.ObjectIdentifier:
		_, ok = v.Value.(string)
	case gosnmp.Integer:
		_, ok = v.Value.(int)
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		_, ok = v.Value.(uint32)
	case gosnmp.Counter64:
		_, ok = v.Value.(uint64)
	}
	if !ok {
		t.Errorf("%s %s: value %#v is not of its type", o.Name, v.Name, v.Value)
	}
}

func TestDinamoTree(t *testing.T) {
	clock := NewManual(t0)
	d := testDinamo(clock)
	checkTree(t, d, dinamoTable)
	if _, ok := d.Tree().Get(".1.3.6.1.2.1.1.7.0"); ok {
		t.Error("the Dinamo serves sysServices, which its spec does not list")
	}
	descr := get(t, d, dinamoTable, "sysDescr", "").Value.(string)
	for _, part := range []string{"ST", "TCA0000042", "5.0.22.0", "DXP", "TPKEY"} {
		if !strings.Contains(descr, part) {
			t.Errorf("sysDescr %q lacks %q (model, serial, firmware, hardware profile, TPKEY id)", descr, part)
		}
	}
	if got := get(t, d, dinamoTable, "sysName", "").Value; got != "TCA0000042" {
		t.Errorf("sysName = %v, want the serial", got)
	}
	if got := get(t, d, dinamoTable, "sysObjectID", "").Value; got != dinamoSysObject {
		t.Errorf("sysObjectID = %v", got)
	}
	if got := num(t, get(t, d, dinamoTable, "totalMemory", "")); got != 100 {
		t.Errorf("totalMemory = %d, want 100", got)
	}
}

func TestLunaTree(t *testing.T) {
	clock := NewManual(t0)
	l := testLuna(clock)
	vars := checkTree(t, l, lunaTable)
	// hsmTable: one row, indexed by the serial as length + characters.
	row := "6.53.51.50.48.49.56"
	if got := get(t, l, lunaTable, "hsmSerialNumber", row).Value; got != "532018" {
		t.Errorf("hsmSerialNumber.%s = %v", row, got)
	}
	n := 0
	for _, v := range vars {
		if strings.HasPrefix(v.Name, lunaTable.get("hsmPartitionLabel").OID+"."+row+".") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d partition rows under the HSM's serial, want 3", n)
	}
	if got := num(t, get(t, l, lunaTable, "hsmPartitionsCreated", row)); got != 3 {
		t.Errorf("hsmPartitionsCreated = %d", got)
	}
	if got := num(t, get(t, l, lunaTable, "ntlsOperStatus", "")); got != 1 {
		t.Errorf("ntlsOperStatus = %d, want up(1)", got)
	}
	// LM-SENSORS: CPU temperature in mC within the normal wander, fans in RPM.
	cpu := sensorRow(t, l, "temp", "CPU")
	if v := num(t, get(t, l, lunaTable, "lmTempSensorsValue", cpu)); v < 25000 || v > 60000 {
		t.Errorf("CPU temperature %d mC", v)
	}
	fan := sensorRow(t, l, "fan", "Fan1A")
	if v := num(t, get(t, l, lunaTable, "lmFanSensorsValue", fan)); v < 3000 || v > 7500 {
		t.Errorf("Fan1A %d RPM", v)
	}
}

// sensorRow finds the LM-SENSORS row of a device name.
func sensorRow(t *testing.T, l *Luna, lm, name string) string {
	t.Helper()
	col := map[string]string{"temp": "lmTempSensorsDevice", "fan": "lmFanSensorsDevice", "volt": "lmVoltSensorsDevice"}[lm]
	o := lunaTable.get(col)
	prev := o.OID
	for {
		v, ok := l.Tree().Next(prev)
		if !ok || !strings.HasPrefix(v.Name, o.OID+".") {
			t.Fatalf("no %s sensor %s", lm, name)
		}
		if v.Value == name {
			return strings.TrimPrefix(v.Name, o.OID+".")
		}
		prev = v.Name
	}
}

// TestValuesMove checks that the moving values move over time, stay in range, are the
// same for the same seed and time, and that counters never go backwards.
func TestValuesMove(t *testing.T) {
	clock := NewManual(t0)
	a, b := testDinamo(clock), testDinamo(clock)
	seen := map[string]map[int64]bool{}
	var lastUp, lastLog int64 = -1, -1
	l := testLuna(clock)
	var lastReq int64 = -1
	for i := 0; i < 240; i++ {
		for _, name := range []string{"cpuLoadAverage", "usedMemory", "hsmCryptoBattery", "diskFreeBlockCount", "memAvailable"} {
			va, vb := num(t, get(t, a, dinamoTable, name, "")), num(t, get(t, b, dinamoTable, name, ""))
			if va != vb {
				t.Fatalf("%s differs between two HSMs of one seed at one time: %d, %d", name, va, vb)
			}
			if seen[name] == nil {
				seen[name] = map[int64]bool{}
			}
			seen[name][va] = true
			if strings.HasSuffix(name, "Battery") || name == "cpuLoadAverage" || name == "usedMemory" {
				if va < 0 || va > 100 {
					t.Fatalf("%s = %d is not a percentage", name, va)
				}
			}
		}
		up := num(t, get(t, a, dinamoTable, "hsmUpTime", ""))
		if want := int64(i) * 6000; up != want {
			t.Fatalf("hsmUpTime = %d after %d min, want %d", up, i, want)
		}
		if up <= lastUp {
			t.Fatal("uptime does not grow")
		}
		lastUp = up
		req := num(t, get(t, l, lunaTable, "hsmOperationRequests", ""))
		if req < lastReq {
			t.Fatalf("hsmOperationRequests went back from %d to %d", lastReq, req)
		}
		lastReq = req
		a.Tick(t.Context())
		b.Tick(t.Context())
		lg := num(t, get(t, a, dinamoTable, "logSize", ""))
		if lg < lastLog {
			t.Fatalf("logSize went back without a truncation")
		}
		lastLog = lg
		clock.Add(time.Minute)
	}
	for name, vals := range seen {
		if len(vals) < 3 {
			t.Errorf("%s took %d values in 4 hours: it does not move", name, len(vals))
		}
	}
	// about 12.3 requests a second over 4 hours
	if lastReq < 160000 || lastReq > 200000 {
		t.Errorf("hsmOperationRequests = %d after 4 h, want about 177000", lastReq)
	}
	if lastLog <= 34250 {
		t.Error("the Dinamo's log did not grow with its sessions")
	}
}

func TestWalkAndCounterProperties(t *testing.T) {
	w := Walk{Seed: 1, Center: 50, Spread: 40, Min: 20, Max: 80, Period: 10 * time.Second}
	c := Counter{Seed: 2, Rate: 3}
	var last uint64
	for s := 0; s < 100000; s += 7 {
		at := t0.Add(time.Duration(s) * time.Second)
		if v := w.At(at); v < 20 || v > 80 {
			t.Fatalf("walk %v out of [20, 80]", v)
		}
		n := c.Since(t0, at)
		if n < last {
			t.Fatalf("counter went back at %d s: %d < %d", s, n, last)
		}
		last = n
	}
	if last < 290000 || last > 310000 {
		t.Errorf("counter at 3/s over 100000 s = %d", last)
	}
}

package poller

import (
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"hsmUpTime":                "hsm_up_time",
		"sysUpTime":                "sys_up_time",
		"ifHCInOctets":             "if_hc_in_octets",
		"usmStatsUnknownEngineIDs": "usm_stats_unknown_engine_ids",
		"memAvailReal":             "mem_avail_real",
		"hsmCPUTemperature":        "hsm_cpu_temperature",
		"laLoad5":                  "la_load5",
		"diskBockSize":             "disk_bock_size",
		"pkcs11Sessions":           "pkcs11_sessions",
		"already_snake":            "already_snake",
		"with-dash.and space":      "with_dash_and_space",
		"ntlsOperStatus":           "ntls_oper_status",
		"X":                        "x",
		"memTotalKBytes":           "mem_total_kbytes",
		"memKBFree":                "mem_kb_free",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Time elapsed since the HSM was switched on.":                                        "Time elapsed since the HSM was switched on.",
		"Size in bytes of the block.  (The name is\n        spelled as the spec spells it.)": "Size in bytes of the block.",
		"The amount of real/physical memory\n    currently unused or available.":             "The amount of real/physical memory currently unused or available.",
		"Version 1.2 of the thing. More.":                                                    "Version 1.2 of the thing.",
		"  no full stop  ":                                                                   "no full stop",
		"":                                                                                   "",
	} {
		if got := FirstSentence(in); got != want {
			t.Errorf("FirstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// The series a MIB object is exported as follows its syntax, its UNITS and its name.
func TestObjectMetric(t *testing.T) {
	obj := func(module, name, syntax, base, units, desc string) *mib.Entry {
		return &mib.Entry{Module: module, Name: name, Kind: mib.KindScalar, Syntax: syntax, Base: base, Units: units, Description: desc}
	}
	for _, c := range []struct {
		e          *mib.Entry
		name, help string
		counter    bool
		in, out    float64
	}{
		// Counter64: a counter, _total, help from the DESCRIPTION's first sentence.
		{obj("SAFENET-HSM-MIB", "hsmUpTime", "Counter64", mib.BaseCounter64, "", "HSM up time.\n   In seconds since power on."),
			"hsm_up_time_total", "HSM up time.", true, 7, 7},
		// TimeTicks: seconds.
		{obj("DINAMO-STANDIN-MIB", "hsmUpTime", "TimeTicks", mib.BaseTimeTicks, "", "Time elapsed since the HSM was switched on."),
			"hsm_up_time_seconds", "Time elapsed since the HSM was switched on.", false, 12345, 123.45},
		{obj("SNMPv2-TC", "lastChange", "TimeStamp", mib.BaseTimeTicks, "", ""),
			"last_change_seconds", "SNMP object SNMPv2-TC::lastChange (TimeStamp).", false, 100, 1},
		// kB: bytes, by UNITS, by the KBytes convention, by the object's name.
		{obj("UCD-SNMP-MIB", "memAvailReal", "Integer32", mib.BaseInteger, "kB", ""),
			"mem_avail_real_bytes", "SNMP object UCD-SNMP-MIB::memAvailReal (Integer32).", false, 10, 10240},
		{obj("HOST-RESOURCES-MIB", "hrMemorySize", "KBytes", mib.BaseInteger, "", "The amount of physical read-write main memory."),
			"hr_memory_size_bytes", "The amount of physical read-write main memory.", false, 2, 2048},
		{obj("X-MIB", "memTotalKB", "Gauge32", mib.BaseGauge, "", ""),
			"mem_total_bytes", "SNMP object X-MIB::memTotalKB (Gauge32).", false, 1, 1024},
		{obj("X-MIB", "swapKBytesSent", "Counter32", mib.BaseCounter32, "KBytes", "Swapped out."),
			"swap_bytes_sent_total", "Swapped out.", true, 3, 3072},
		// Other units: no second suffix when the name has it; milliseconds are seconds.
		{obj("X-MIB", "memKBFree", "Integer32", mib.BaseInteger, "", "Free."),
			"mem_bytes_free", "Free.", false, 1, 1024},
		{obj("X-MIB", "memKBFree", "Integer32", mib.BaseInteger, "kB", "Free."),
			"mem_bytes_free", "Free.", false, 1, 1024},
		{obj("X-MIB", "memTotalKBytes", "Integer32", mib.BaseInteger, "", "Total."),
			"mem_total_bytes", "Total.", false, 1, 1024},
		{obj("SAFENET-HSM-MIB", "hsmStorageTotalBytes", "Unsigned32", mib.BaseUnsigned, "bytes", "Total storage."),
			"hsm_storage_total_bytes", "Total storage.", false, 5, 5},
		{obj("X-MIB", "latency", "Gauge32", mib.BaseGauge, "milliseconds", "Latency."),
			"latency_seconds", "Latency.", false, 250, 0.25},
		{obj("HSMWATCH-TEST-MIB", "testBattery", "Integer32", mib.BaseInteger, "percent", "Battery charge."),
			"test_battery_percent", "Battery charge.", false, 80, 80},
		// Gauges never end in a suffix of another type; counters end in _total once.
		{obj("DINAMO-STANDIN-MIB", "objCount", "Gauge32", mib.BaseGauge, "", "Counting objects in the HSM."),
			"obj_count_value", "Counting objects in the HSM.", false, 9, 9},
		{obj("DINAMO-STANDIN-MIB", "memTotal", "Integer32", mib.BaseInteger, "", "Usable RAM (100%)."),
			"mem_total_value", "Usable RAM (100%).", false, 100, 100},
		{obj("X-MIB", "pktsTotal", "Counter64", mib.BaseCounter64, "", "Packets."),
			"pkts_total", "Packets.", true, 1, 1},
		// A gauge with Counter64's encoding; a syntax no MIB defines: a plain gauge.
		{obj("X-MIB", "queueDepth", "CounterBasedGauge64", mib.BaseCounter64, "", "Queue depth."),
			"queue_depth", "Queue depth.", false, 4, 4},
		{obj("X-MIB", "oddThing", "NoSuchTC", "", "", "Odd."), "odd_thing", "Odd.", false, 4, 4},
	} {
		m := ObjectMetric(c.e)
		if m.Name != c.name || m.Help != c.help || m.Counter != c.counter || m.Value(c.in) != c.out {
			t.Errorf("%s: got %+v (value %v -> %v), want %s %q counter=%v %v",
				c.e.FullName(), m, c.in, m.Value(c.in), c.name, c.help, c.counter, c.out)
		}
	}
}

func TestHealthAndUnknownMetrics(t *testing.T) {
	for _, c := range []struct {
		id, unit, title, name string
	}{
		{"memory_used", "%", "memory used", "health_memory_used_percent"},
		{"operation_rate", "/s", "HSM operation rate", "health_operation_rate_per_second"},
		{"log_growth", "B/s", "event log growth", "health_log_growth_bytes_per_second"},
		{"ntls_links", "", "NTLS links", "health_ntls_links"},
		{"sessions", "", "", "health_sessions"},
		{"objects_count", "", "objects", "health_objects_count_value"},
		{"temp", "degrees", "temperature", "health_temp_degrees"},
	} {
		m := HealthMetric(c.id, c.unit, c.title)
		if m.Name != c.name || m.Counter || m.Help == "" || m.Value(3) != 3 {
			t.Errorf("HealthMetric(%q, %q): %+v, want %s", c.id, c.unit, m, c.name)
		}
	}
	if m := HealthMetric("memory_used", "%", "memory used"); m.Help != "Health item: memory used (%)." {
		t.Errorf("help %q", m.Help)
	}
	for typ, want := range map[gosnmp.Asn1BER]string{gosnmp.Counter64: "oid_total", gosnmp.Counter32: "oid_total",
		gosnmp.TimeTicks: "oid_seconds", gosnmp.Gauge32: "oid", gosnmp.Integer: "oid"} {
		if m := unknownMetric(typ); m.Name != want || m.Counter != (want == "oid_total") {
			t.Errorf("unknownMetric(%v) = %+v, want %s", typ, m, want)
		}
	}
}

// A Luna and a Dinamo polled with the shipped MIBs: hsmUpTime is a counter of one and
// seconds of the other, under two names; every exported name has one type and one help
// across both; memAvailReal (kB) is exported in bytes.
func TestPolledMetricsOneTypePerName(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig(), lunaConfig())
	tb := projectMIBs(t)
	dinamo := poll(t, newPoller(t, Options{Target: dinamoTarget(f.Members()[0].Addr()), MIB: tb, Now: clock.Now}))
	luna := poll(t, newPoller(t, Options{Target: lunaTarget(f.Members()[1].Addr()), MIB: tb, Now: clock.Now}))
	clock.Add(time.Minute)
	type family struct {
		help    string
		counter bool
	}
	seen := map[string]family{}
	byName := map[string]map[string]Sample{} // vendor -> stored name -> sample
	for vendor, r := range map[string]*Result{"dinamo": dinamo, "luna": luna} {
		byName[vendor] = map[string]Sample{}
		for _, s := range r.Samples {
			byName[vendor][s.Name] = s
			m := s.Metric
			if m.Name == "" || m.Help == "" {
				t.Errorf("%s %s: no metric %+v", vendor, s.Name, m)
				continue
			}
			if SnakeCase(m.Name) != m.Name {
				t.Errorf("%s %s: %q is not snake_case", vendor, s.Name, m.Name)
			}
			if f, ok := seen[m.Name]; ok && f != (family{m.Help, m.Counter}) {
				t.Errorf("%s: %s exported with %+v and %+v", vendor, m.Name, f, family{m.Help, m.Counter})
			}
			seen[m.Name] = family{m.Help, m.Counter}
		}
	}
	if s := byName["luna"]["hsmUpTime"]; s.Metric.Name != "hsm_up_time_total" || !s.Metric.Counter {
		t.Errorf("Luna hsmUpTime: %+v", s)
	}
	if s := byName["dinamo"]["hsmUpTime"]; s.Metric.Name != "hsm_up_time_seconds" || s.Metric.Counter ||
		s.Metric.Value(s.Value) != s.Value/100 || s.Metric.Help != "Time elapsed since the HSM was switched on." {
		t.Errorf("Dinamo hsmUpTime: %+v", s)
	}
	if s := byName["luna"]["memAvailReal"]; s.Metric.Name != "mem_avail_real_bytes" || s.Value == 0 || s.Metric.Value(s.Value) != 1024*s.Value {
		t.Errorf("Luna memAvailReal: %+v", s)
	}
	if s := byName["luna"]["health_partition_storage_used"]; s.Metric.Name != "health_partition_storage_used_percent" {
		t.Errorf("Luna partition storage health: %+v", s)
	}
}

package poller

import (
	"strings"
	"unicode"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// How a poll's samples are exposed to Prometheus. A sample keeps the name it is stored
// under (its MIB object's name, health_<id>); its Metric is the series it is exported as,
// and that is fixed by what the sample is, never by one answer of one agent, so that every
// series has one type however many HSMs answer:
//
//   - a MIB object by its syntax and UNITS: Counter32 and Counter64 are counters named
//     <snake_case>_total; TimeTicks are gauges in seconds (the value / 100) named
//     <snake_case>_seconds; sizes in kilobytes (UNITS "kB", the KBytes convention, KB or
//     KBytes in the name) are bytes (the value * 1024) named <snake_case>_bytes; UNITS "bytes",
//     "seconds", "milliseconds", "percent" give _bytes, _seconds, _seconds (/ 1000) and
//     _percent; every other object is a gauge named <snake_case>. The help text is the
//     first sentence of the object's DESCRIPTION when a MIB file was loaded, else a fixed
//     text naming the object. hsmUpTime is then hsm_up_time_total on a Luna (Counter64)
//     and hsm_up_time_seconds on a Dinamo (TimeTicks): two series, each of one type.
//   - an object no loaded MIB names: oid (a gauge), oid_total (a counter) or oid_seconds,
//     by the type the agent answered with, the OID as a label.
//   - a health item: health_<id> with its profile's unit as the suffix (% is _percent,
//     /s _per_second, B/s _bytes_per_second), a gauge whose help is the item's title;
//     every item's state is health_state.
//
// A gauge whose name would end in a suffix Prometheus reserves for another type (_total,
// _count, _sum, _bucket: Dinamo's objCount, memTotal) gets _value after it.

// Metric is the series a sample is exported as: its name (snake_case, unit last, without
// the exporter's prefix), help, type and the conversion from the polled value to the unit
// the name says.
type Metric struct {
	Name    string     `json:"name"`
	Help    string     `json:"help"`
	Counter bool       `json:"counter,omitempty"`
	Convert Conversion `json:"convert,omitempty"`
}

// Conversion turns a polled value into the base unit its metric's name says.
type Conversion uint8

// The conversions.
const (
	AsIs                  Conversion = iota
	CentisecondsToSeconds            // TimeTicks
	MillisecondsToSeconds            // UNITS "milliseconds"
	KilobytesToBytes                 // UNITS "kB", KBytes
)

// Value converts a polled value to the metric's unit.
func (m Metric) Value(v float64) float64 {
	switch m.Convert {
	case CentisecondsToSeconds:
		return v / 100
	case MillisecondsToSeconds:
		return v / 1000
	case KilobytesToBytes:
		return v * 1024
	}
	return v
}

// ObjectMetric is the series the values of the MIB object e are exported as.
func ObjectMetric(e *mib.Entry) Metric {
	name := SnakeCase(e.Name)
	m := Metric{Help: objectHelp(e)}
	unit := ""
	switch {
	case e.Base == mib.BaseTimeTicks:
		unit, m.Convert = "_seconds", CentisecondsToSeconds
	default:
		unit, m.Convert = unitsOf(e.Units)
		if unit == "" && (e.Syntax == "KBytes" || hasKilobyteName(name)) {
			unit, m.Convert = "_bytes", KilobytesToBytes
		}
	}
	if m.Convert == KilobytesToBytes {
		// memTotalKB is mem_total_bytes, swapKBytesSent swap_bytes_sent_total.
		var renamed bool
		if name, renamed = kilobytesToBytes(name); renamed && !strings.HasSuffix(name, "_bytes") {
			unit = ""
		}
	}
	// CounterBasedGauge64 (HCNUM-TC) is a gauge that only has Counter64's encoding.
	m.Counter = (e.Base == mib.BaseCounter32 || e.Base == mib.BaseCounter64) && e.Syntax != "CounterBasedGauge64"
	m.Name = withSuffixes(name, unit, m.Counter)
	return m
}

// unknownMetric is the series of a value no loaded MIB names, by the type the agent
// answered with (a fixed name for each).
func unknownMetric(typ gosnmp.Asn1BER) Metric {
	switch typ {
	case gosnmp.Counter32, gosnmp.Counter64:
		return Metric{Name: "oid_total", Counter: true, Help: "Counter of an SNMP object no loaded MIB names, by OID."}
	case gosnmp.TimeTicks:
		return Metric{Name: "oid_seconds", Convert: CentisecondsToSeconds, Help: "TimeTicks of an SNMP object no loaded MIB names, by OID, in seconds."}
	}
	return Metric{Name: "oid", Help: "Value of an SNMP object no loaded MIB names, by OID."}
}

// HealthMetric is the series of a health item of id with unit (the profile's "%",
// "/s", "B/s"...) and title.
func HealthMetric(id, unit, title string) Metric {
	suffix, _ := unitsOf(unit)
	if suffix == "" && unit != "" {
		suffix = "_" + SnakeCase(strings.NewReplacer("/", " per ", "%", " percent ").Replace(unit))
	}
	help := "Health item " + id
	if title != "" {
		help = "Health item: " + title
	}
	if unit != "" {
		help += " (" + unit + ")"
	}
	return Metric{Name: withSuffixes("health_"+SnakeCase(id), suffix, false), Help: help + "."}
}

// healthStateMetric is the series of every health item's state.
func healthStateMetric() Metric {
	return Metric{Name: "health_state", Help: "State of each health item (label item): 0 ok, 1 warning, 2 critical, 3 unknown."}
}

// withSuffixes ends name in its unit (unless it already does) and in _total for a
// counter; a gauge ending in a suffix reserved for another type gets _value.
func withSuffixes(name, unit string, counter bool) string {
	if counter {
		name = strings.TrimSuffix(name, "_total")
	}
	if unit != "" && !strings.HasSuffix(name, unit) {
		name += unit
	}
	if counter {
		return name + "_total"
	}
	for _, reserved := range []string{"_total", "_count", "_sum", "_bucket"} {
		if strings.HasSuffix(name, reserved) {
			return name + "_value"
		}
	}
	return name
}

// unitsOf reads a UNITS clause (or a profile's unit): the suffix it gives a name and
// the conversion to that base unit; "" for units with no base unit of their own.
func unitsOf(units string) (string, Conversion) {
	u := strings.Join(strings.Fields(units), " ")
	switch u { // B is bytes, b could be bits
	case "B":
		return "_bytes", AsIs
	case "B/s":
		return "_bytes_per_second", AsIs
	}
	switch strings.ToLower(u) {
	case "kb", "kbytes", "kilobytes", "kib", "kibibytes", "kilo-bytes":
		return "_bytes", KilobytesToBytes
	case "byte", "bytes", "octets":
		return "_bytes", AsIs
	case "s", "sec", "secs", "second", "seconds":
		return "_seconds", AsIs
	case "ms", "millisecond", "milliseconds", "milli-seconds":
		return "_seconds", MillisecondsToSeconds
	case "centiseconds", "hundredths of a second", "hundredths of seconds":
		return "_seconds", CentisecondsToSeconds
	case "%", "percent", "percentage":
		return "_percent", AsIs
	case "/s", "per second", "1/s":
		return "_per_second", AsIs
	case "bytes/s", "bytes per second":
		return "_bytes_per_second", AsIs
	case "celsius", "degrees celsius", "degrees c", "°c":
		return "_celsius", AsIs
	}
	return "", AsIs
}

// isKilobyteWord: a word of a name that says kilobytes.
func isKilobyteWord(w string) bool { return w == "kb" || w == "kbytes" || w == "kilobytes" }

// hasKilobyteName: the object's own name says kilobytes (memTotalKB, sizeKBytes).
func hasKilobyteName(snake string) bool {
	_, ok := kilobytesToBytes(snake)
	return ok
}

// kilobytesToBytes renames the words of a name that say kilobytes to bytes.
func kilobytesToBytes(snake string) (string, bool) {
	words := strings.Split(snake, "_")
	renamed := false
	for i, w := range words {
		if isKilobyteWord(w) {
			words[i], renamed = "bytes", true
		}
	}
	return strings.Join(words, "_"), renamed
}

// objectHelp is the first sentence of the object's DESCRIPTION, whitespace collapsed;
// without one, a fixed text naming the object.
func objectHelp(e *mib.Entry) string {
	if s := FirstSentence(e.Description); s != "" {
		return s
	}
	syntax := ""
	if e.Syntax != "" {
		syntax = " (" + e.Syntax + ")"
	}
	return "SNMP object " + e.FullName() + syntax + "."
}

// FirstSentence is text up to its first full stop followed by a space (or its end),
// whitespace collapsed.
func FirstSentence(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	for i := 0; i < len(s); i++ {
		if s[i] == '.' && (i+1 == len(s) || s[i+1] == ' ') {
			return s[:i+1]
		}
	}
	return s
}

// SnakeCase writes a MIB name as a Prometheus name part: hsmUpTime is hsm_up_time,
// ifHCInOctets if_hc_in_octets, usmStatsUnknownEngineIDs usm_stats_unknown_engine_ids;
// any character other than a letter or a digit separates words.
func SnakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	for i, r := range rs {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			sep()
			continue
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			// An acronym's plural s (IDs) stays with it.
			plural := next == 's' && (i+2 == len(rs) || !unicode.IsLower(rs[i+2]))
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && unicode.IsLower(next) && !plural) {
				sep()
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// KBytes is one word: kbytes, not k_bytes.
	words := strings.Split(strings.TrimSuffix(b.String(), "_"), "_")
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "k" && words[i+1] == "bytes" {
			words = append(words[:i], append([]string{"kbytes"}, words[i+2:]...)...)
		}
	}
	return strings.Join(words, "_")
}

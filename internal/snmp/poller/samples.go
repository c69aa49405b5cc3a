package poller

import (
	"sort"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Samples are a poll's numbers as metrics, a plain list for whatever exports them (the
// store, the Prometheus sink): every numeric object read, named by its MIB name as
// snmp_exporter names them, with the table row as a label; every judged health item as
// health_<id>; every item's state as health_state (0 ok, 1 warning, 2 critical, 3
// unknown). Each sample also says the Prometheus series it is exported as (exposition.go).

// SampleKind says how a sample behaves over time.
type SampleKind string

// Sample kinds.
const (
	Gauge   SampleKind = "gauge"   // goes up and down
	Counter SampleKind = "counter" // only grows, until a restart or a wrap
)

// Label is one name=value pair of a sample.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Sample is one number of a poll: Name and Value as stored, Kind as the agent answered;
// Metric the series it is exported as, fixed by the MIB object's syntax (or the health
// item), with Metric.Value(Value) its value there.
type Sample struct {
	Name   string     `json:"name"`
	Labels []Label    `json:"labels,omitempty"`
	Value  float64    `json:"value"`
	Kind   SampleKind `json:"kind"`
	Metric Metric     `json:"-"`
}

// samples builds the poll's samples: objects in OID order, then health items in
// profile order.
func samples(t *mib.Table, snap *snapshot, items []Item) []Sample {
	oids := make([]string, 0, len(snap.vars))
	for oid, v := range snap.vars {
		if v.isNum {
			oids = append(oids, oid)
		}
	}
	sort.Slice(oids, func(i, j int) bool { return mib.Less(oids[i], oids[j]) })
	out := make([]Sample, 0, len(oids)+2*len(items))
	for _, oid := range oids {
		v := snap.vars[oid]
		s := Sample{Value: v.num, Kind: Gauge}
		if v.typ == gosnmp.Counter32 || v.typ == gosnmp.Counter64 {
			s.Kind = Counter
		}
		e, suffix, ok := t.Lookup(oid)
		switch {
		case !ok:
			s.Name = "oid"
			s.Labels = []Label{{"oid", oid}}
			s.Metric = unknownMetric(v.typ)
		case e.Kind == mib.KindColumn:
			s.Name = e.Name
			s.Labels = []Label{{"index", indexText(strings.TrimPrefix(suffix, "."))}}
			s.Metric = ObjectMetric(e)
		default:
			s.Name = e.Name
			s.Metric = ObjectMetric(e)
		}
		// Luna's hsmAdminLoginAttempts is a Counter32 by its MIB but counts down: the
		// MIB's syntax is not always what the object does; counters stay counters here
		// (and in the exposition, where the MIB's syntax fixes the type), and the health
		// items decide what a value means.
		out = append(out, s)
	}
	for i := range items {
		it := &items[i]
		var labels []Label
		if it.Instance != "" {
			labels = []Label{{"instance", it.Instance}}
		}
		if it.Known() {
			out = append(out, Sample{Name: "health_" + it.ID, Labels: labels, Value: it.Value, Kind: Gauge,
				Metric: HealthMetric(it.ID, it.Unit, it.Title)})
		}
		if it.State != StatePending {
			out = append(out, Sample{Name: "health_state", Labels: append([]Label{{"item", it.ID}}, labels...),
				Value: float64(it.Status), Kind: Gauge, Metric: healthStateMetric()})
		}
	}
	return out
}

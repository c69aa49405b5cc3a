// Package metrics exposes what hsmwatch sees and how its own pipeline is doing as
// Prometheus metrics (/metrics): events by host, component and level; open alarms; the
// latest figures of each HSM from polls and probes; and the pipeline's health (lines and
// packets read, parse failures, queue depth, sink errors, events dropped, which must stay 0).
package metrics

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Sample is one figure of one HSM from a poll or a probe: "storage_used_percent" of
// host "luna1", labels {partition="p1"}.
type Sample struct {
	Host    string
	Name    string // snake_case, exported as hsmwatch_hsm_<name>
	Labels  map[string]string
	Value   float64
	Counter bool // a counter that only grows (between resets), else a gauge
}

// Registry holds hsmwatch's collectors. Create one per daemon: nothing is global.
type Registry struct {
	reg    *prometheus.Registry
	events *prometheus.CounterVec

	mu      sync.Mutex
	samples map[string]map[string]Sample // host -> series key -> latest sample
	alarms  map[[2]string]float64        // host, level -> open alarms
	funcs   []registered
}

// registered is one figure of a source or sink, read at each scrape.
type registered struct {
	owner string // Forget(owner) removes it
	emit  func(ch chan<- prometheus.Metric)
}

// New returns a registry with the event counters and the Go runtime and process
// collectors.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), samples: map[string]map[string]Sample{}, alarms: map[[2]string]float64{}}
	r.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hsmwatch_events_total", Help: "Events classified, by host, component and level.",
	}, []string{"host", "component", "level"})
	r.reg.MustRegister(r.events, prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), (*collector)(r))
	return r
}

// Gatherer is what promhttp serves.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// CountEvent adds one event.
func (r *Registry) CountEvent(host, component, level string) {
	r.events.WithLabelValues(host, component, level).Inc()
}

// SetAlarms replaces the open-alarm counts (host, level -> count).
func (r *Registry) SetAlarms(counts map[[2]string]float64) {
	r.mu.Lock()
	r.alarms = counts
	r.mu.Unlock()
}

// SetSamples replaces the latest figures of one host.
func (r *Registry) SetSamples(host string, samples []Sample) {
	m := make(map[string]Sample, len(samples))
	for _, s := range samples {
		s.Host = host
		m[seriesKey(s)] = s
	}
	r.mu.Lock()
	r.samples[host] = m
	r.mu.Unlock()
}

// Func registers figures read at each scrape: a source's or sink's counters. name is
// exported as hsmwatch_<name>; labels name the instance ({source="file:/var/log/x"}).
func (r *Registry) Func(name, help string, counter bool, labels map[string]string, read func() float64) {
	r.FuncOf("", name, help, counter, labels, read)
}

// FuncOf is Func for a figure of owner (a source or sink that a reload may drop or
// replace): Forget(owner) then removes all of its figures at once.
func (r *Registry) FuncOf(owner, name, help string, counter bool, labels map[string]string, read func() float64) {
	keys := sortedKeys(labels)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = labels[k]
	}
	t := prometheus.GaugeValue
	if counter {
		t = prometheus.CounterValue
	}
	desc := prometheus.NewDesc("hsmwatch_"+name, help, keys, nil)
	r.mu.Lock()
	r.funcs = append(r.funcs, registered{owner: owner, emit: func(ch chan<- prometheus.Metric) {
		ch <- prometheus.MustNewConstMetric(desc, t, read(), vals...)
	}})
	r.mu.Unlock()
}

// Forget removes the figures FuncOf registered for owner.
func (r *Registry) Forget(owner string) {
	r.mu.Lock()
	r.funcs = slices.DeleteFunc(r.funcs, func(f registered) bool { return f.owner == owner && owner != "" })
	r.mu.Unlock()
}

// ForgetSamples removes the latest figures of host (an HSM no longer polled).
func (r *Registry) ForgetSamples(host string) {
	r.mu.Lock()
	delete(r.samples, host)
	r.mu.Unlock()
}

// collector emits the figures that change shape (samples, alarms, registered funcs).
type collector Registry

var alarmsDesc = prometheus.NewDesc("hsmwatch_alarms_active", "Open alarms, by host and level.", []string{"host", "level"}, nil)

func (c *collector) Describe(chan<- *prometheus.Desc) {} // unchecked: the series vary

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := (*Registry)(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.alarms {
		ch <- prometheus.MustNewConstMetric(alarmsDesc, prometheus.GaugeValue, v, k[0], k[1])
	}
	for _, host := range sortedKeys(r.samples) {
		for _, s := range r.samples[host] {
			keys := append([]string{"host"}, sortedKeys(s.Labels)...)
			vals := []string{s.Host}
			for _, k := range keys[1:] {
				vals = append(vals, s.Labels[k])
			}
			t := prometheus.GaugeValue
			if s.Counter {
				t = prometheus.CounterValue
			}
			desc := prometheus.NewDesc("hsmwatch_hsm_"+s.Name, "HSM figure "+s.Name+" from polls and probes.", keys, nil)
			m, err := prometheus.NewConstMetric(desc, t, s.Value, vals...)
			if err == nil {
				ch <- m
			}
		}
	}
	for _, f := range r.funcs {
		f.emit(ch)
	}
}

func seriesKey(s Sample) string {
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range sortedKeys(s.Labels) {
		b.WriteString("\x00" + k + "=" + s.Labels[k])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

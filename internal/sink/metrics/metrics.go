// Package metrics exposes what hsmwatch sees and how its own pipeline is doing as
// Prometheus metrics (/metrics): events by host, component and level; open alarms; the
// latest figures of each HSM from polls and probes; and the pipeline's health (lines and
// packets read, parse failures, queue depth, sink errors, events dropped, which must stay 0).
//
// A scrape never fails whole: each name has the one type and help its owner gives it (the
// poller's figures take theirs from the MIB, poller.Metric), a series that clashes with
// one collected before in the same scrape is dropped, and every error of a scrape is
// counted in hsmwatch_collector_errors_total and logged at most once a minute while the
// rest is served.
package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/hsmwatch/hsmwatch/internal/version"
)

// Sample is one figure of one HSM from a poll or a probe: "storage_used_percent" of
// host "luna1", labels {partition="p1"}. Its name fixes its type and help: whoever builds
// samples gives one name one type and one help (poller.Metric does for polls); a sample
// whose name was already collected in the same scrape with another type or help is
// dropped and counted in hsmwatch_collector_errors_total.
type Sample struct {
	Host    string
	Name    string // snake_case ending in its unit, exported as hsmwatch_hsm_<name>
	Help    string // "": a fixed text naming the figure
	Labels  map[string]string
	Value   float64 // in the unit Name says
	Counter bool    // a counter that only grows (between resets), else a gauge
}

// Options configure NewWith.
type Options struct {
	// Logger gets collection errors (default slog.Default()).
	Logger *slog.Logger
	// ErrorLogInterval is the least time between two logged collection errors; those in
	// between are only counted (default a minute).
	ErrorLogInterval time.Duration
}

// Registry holds hsmwatch's collectors. Create one per daemon: nothing is global.
type Registry struct {
	reg    *prometheus.Registry
	events *prometheus.CounterVec
	// errors counts the series a scrape had to leave out (hsmwatch_collector_errors_total).
	errors prometheus.Counter
	alarms *prometheus.Desc

	log      *slog.Logger
	logEvery time.Duration
	logMu    sync.Mutex
	lastLog  time.Time
	unlogged int // errors counted since the last one logged

	mu      sync.Mutex
	samples map[string]map[string]Sample // host -> series key -> latest sample
	alarmN  map[[2]string]float64        // host, level -> open alarms
	funcs   []registered
}

// registered is one figure of a source or sink, read at each scrape.
type registered struct {
	owner   string // Forget(owner) removes it
	name    string // hsmwatch_<name>
	help    string
	counter bool
	desc    *prometheus.Desc
	vals    []string
	read    func() float64
	each    func() map[string]float64 // SeriesOf: one series per value of the last label
}

// New returns a registry with the event counters, the build information and the Go
// runtime and process collectors, logging collection errors to slog.Default().
func New() *Registry { return NewWith(Options{}) }

// NewWith is New with options.
func NewWith(o Options) *Registry {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ErrorLogInterval <= 0 {
		o.ErrorLogInterval = time.Minute
	}
	r := &Registry{reg: prometheus.NewRegistry(), samples: map[string]map[string]Sample{}, alarmN: map[[2]string]float64{},
		log: o.Logger, logEvery: o.ErrorLogInterval}
	r.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hsmwatch_events_total", Help: "Events classified, by host, component and level.",
	}, []string{"host", "component", "level"})
	r.errors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hsmwatch_collector_errors_total",
		Help: "Series left out of a scrape (a name collected twice with another type or help, an invalid label, a failing collector); the scrape is served without them.",
	})
	r.alarms = prometheus.NewDesc("hsmwatch_alarms_active", "Open alarms, by host and level.", []string{"host", "level"}, nil)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hsmwatch_build_info",
		Help:        "A metric with a constant '1' value labeled by version, revision, goversion and builddate from which hsmwatch was built.",
		ConstLabels: buildLabels(version.Get()),
	})
	build.Set(1)
	r.reg.MustRegister(r.events, r.errors, build, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), (*collector)(r))
	return r
}

// buildLabels are hsmwatch_build_info's labels, as Prometheus' own build_info has them
// (version, revision, goversion) and the build date: what `hsmwatch version` prints
// (internal/version), "unknown" for what the binary does not record.
func buildLabels(i version.Info) prometheus.Labels {
	return prometheus.Labels{"version": i.Version, "revision": i.Commit, "goversion": i.GoVersion, "builddate": i.Date}
}

// Gatherer is what promhttp serves. It never fails: an error of one collector or series
// (promhttp's ContinueOnError would serve the rest and only log it) is counted in
// hsmwatch_collector_errors_total, logged at most once a ErrorLogInterval, and the
// families gathered without it are returned, so that a handler built on it with any
// HandlerOpts answers 200.
func (r *Registry) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := r.reg.Gather()
		if err != nil {
			r.failed(err)
		}
		return mfs, nil
	})
}

// Handler serves /metrics with promhttp's ContinueOnError: a collector error never fails
// the scrape (see Gatherer).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Gatherer(), promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// failed counts err (each error of a prometheus.MultiError) and logs it unless one was
// logged less than logEvery ago.
func (r *Registry) failed(err error) {
	n := 1
	var multi prometheus.MultiError
	if errors.As(err, &multi) && len(multi) > 0 {
		n = len(multi)
	}
	r.errors.Add(float64(n))
	r.logMu.Lock()
	now := time.Now()
	if !r.lastLog.IsZero() && now.Sub(r.lastLog) < r.logEvery {
		r.unlogged += n
		r.logMu.Unlock()
		return
	}
	unlogged := r.unlogged
	r.lastLog, r.unlogged = now, 0
	r.logMu.Unlock()
	r.log.Warn("metrics: series left out of a scrape", "errors", n, "not_logged_before", unlogged, "err", err)
}

// CountEvent adds one event.
func (r *Registry) CountEvent(host, component, level string) {
	r.events.WithLabelValues(host, component, level).Inc()
}

// SetAlarms replaces the open-alarm counts (host, level -> count).
func (r *Registry) SetAlarms(counts map[[2]string]float64) {
	r.mu.Lock()
	r.alarmN = counts
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
	f := registered{owner: owner, name: "hsmwatch_" + name, help: help, counter: counter,
		desc: prometheus.NewDesc("hsmwatch_"+name, help, keys, nil), vals: vals, read: read}
	r.mu.Lock()
	r.funcs = append(r.funcs, f)
	r.mu.Unlock()
}

// SeriesOf is FuncOf for a figure of several series: read returns a value per value of
// the label each (added after labels), such as the messages limited per syslog origin.
func (r *Registry) SeriesOf(owner, name, help string, counter bool, labels map[string]string, each string, read func() map[string]float64) {
	keys := sortedKeys(labels)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = labels[k]
	}
	f := registered{owner: owner, name: "hsmwatch_" + name, help: help, counter: counter,
		desc: prometheus.NewDesc("hsmwatch_"+name, help, append(keys, each), nil), vals: vals, each: read}
	r.mu.Lock()
	r.funcs = append(r.funcs, f)
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

func (c *collector) Describe(chan<- *prometheus.Desc) {} // unchecked: the series vary

// family is what a name was first collected with in one scrape.
type family struct {
	help    string
	counter bool
}

// collection emits one Collect's metrics: the first series of a name fixes its type and
// help, a later one that differs is dropped and counted, as is one that cannot be built.
type collection struct {
	ch   chan<- prometheus.Metric
	seen map[string]family
	errs []error
}

func (s *collection) emit(name, help string, counter bool, desc *prometheus.Desc, v float64, labelValues ...string) {
	f := family{help, counter}
	if first, ok := s.seen[name]; ok && first != f {
		s.errs = append(s.errs, fmt.Errorf("%s: dropped, collected before with %s and help %q, now %s and help %q",
			name, typeName(first.counter), first.help, typeName(counter), help))
		return
	}
	t := prometheus.GaugeValue
	if counter {
		t = prometheus.CounterValue
	}
	m, err := prometheus.NewConstMetric(desc, t, v, labelValues...)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
		return
	}
	s.seen[name] = f
	s.ch <- m
}

func typeName(counter bool) string {
	if counter {
		return "counter"
	}
	return "gauge"
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := (*Registry)(c)
	s := &collection{ch: ch, seen: map[string]family{}}
	r.mu.Lock()
	alarmHelp := "Open alarms, by host and level."
	for _, k := range sortedPairs(r.alarmN) {
		s.emit("hsmwatch_alarms_active", alarmHelp, false, r.alarms, r.alarmN[k], k[0], k[1])
	}
	for _, host := range sortedKeys(r.samples) {
		samples := r.samples[host]
		for _, key := range sortedKeys(samples) {
			sm := samples[key]
			keys := append([]string{"host"}, sortedKeys(sm.Labels)...)
			vals := []string{sm.Host}
			for _, k := range keys[1:] {
				vals = append(vals, sm.Labels[k])
			}
			name, help := "hsmwatch_hsm_"+sm.Name, sm.Help
			if help == "" {
				help = "HSM figure " + sm.Name + " from polls and probes."
			}
			s.emit(name, help, sm.Counter, prometheus.NewDesc(name, help, keys, nil), sm.Value, vals...)
		}
	}
	funcs := slices.Clone(r.funcs)
	r.mu.Unlock()
	for _, f := range funcs { // read outside the lock: a source's figures take their own locks
		if f.each != nil {
			series := f.each()
			for _, v := range sortedKeys(series) {
				s.emit(f.name, f.help, f.counter, f.desc, series[v], append(slices.Clone(f.vals), v)...)
			}
			continue
		}
		s.emit(f.name, f.help, f.counter, f.desc, f.read(), f.vals...)
	}
	if len(s.errs) > 0 {
		r.failed(prometheus.MultiError(s.errs))
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

func sortedPairs(m map[[2]string]float64) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	return keys
}

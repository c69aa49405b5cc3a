package pkcs11probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// DefaultInterval is how often a library is probed when no interval is given.
const DefaultInterval = time.Minute

// Spec is one sources.pkcs11 entry.
type Spec struct {
	Library    string          `yaml:"library"`
	Interval   config.Duration `yaml:"interval"`
	Thresholds ThresholdSpec   `yaml:"thresholds"`
	// Env is the environment the library finds its configuration in, for the probe's
	// child process only (SOFTHSM2_CONF, ChrystokiConfigurationPath).
	Env map[string]string `yaml:"env"`
}

// ThresholdSpec holds the ranges (Monitoring Plugins syntax, as for hsmwatch check token)
// the probe judges tokens by; an empty one keeps its default (DefaultMemoryWarn, ...).
type ThresholdSpec struct {
	MemoryWarning    string `yaml:"memory_warning"`
	MemoryCritical   string `yaml:"memory_critical"`
	SessionsWarning  string `yaml:"sessions_warning"`
	SessionsCritical string `yaml:"sessions_critical"`
	ClockWarning     string `yaml:"clock_warning"`
	ClockCritical    string `yaml:"clock_critical"`
}

// Thresholds returns the ranges with the defaults filled in, and the problems of those
// that do not parse.
func (t ThresholdSpec) Thresholds() (Thresholds, []component.Problem) {
	var probs []component.Problem
	pair := func(key, w, c, dw, dc string) check.Threshold {
		if w == "" {
			w = dw
		}
		if c == "" {
			c = dc
		}
		th, err := check.ParseThreshold(w, c)
		if err != nil {
			probs = append(probs, component.Problemf("thresholds", "%s: %v", key, err))
		}
		return th
	}
	return Thresholds{
		Memory:   pair("memory", t.MemoryWarning, t.MemoryCritical, DefaultMemoryWarn, DefaultMemoryCrit),
		Sessions: pair("sessions", t.SessionsWarning, t.SessionsCritical, DefaultSessionsWarn, DefaultSessionsCrit),
		Clock:    pair("clock", t.ClockWarning, t.ClockCritical, DefaultClockWarn, DefaultClockCrit),
	}, probs
}

// ID is the library's path.
func (s *Spec) ID() string { return s.Library }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var probs []component.Problem
	if s.Library == "" {
		probs = append(probs, component.Problemf("library", "required"))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(s.Env[k], 0) {
			probs = append(probs, component.Problemf("env", "%q: not an environment variable's name and value", k))
		}
	}
	_, tp := s.Thresholds.Thresholds()
	return append(probs, tp...)
}

const sampleConfig = `# PKCS#11 libraries probed on a schedule, each probe in a child process: each token's
# sessions and memory go to /metrics and the store, under the token's label, and its
# health (memory, PIN flags, sessions, clock, a token removed, the library failing)
# raises and clears alarms (catalog: pkcs11-probe.yaml).
- library: /usr/lib/libCryptoki2_64.so
  interval: 1m
  env: {ChrystokiConfigurationPath: /etc}   # the child's environment: where the library's configuration is
  thresholds:            # ranges as for hsmwatch check token; these are the defaults
    memory_warning: "75"
    memory_critical: "90"
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "pkcs11",
		Doc: "probes PKCS#11 tokens (sessions, memory, health alarms)", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Source: func(sp component.Spec, env component.Env) (component.Source, error) {
			s := sp.(*Spec)
			interval := time.Duration(s.Interval)
			if interval <= 0 {
				interval = DefaultInterval
			}
			log := env.Logger
			if log == nil {
				log = slog.New(slog.DiscardHandler)
			}
			th, probs := s.Thresholds.Thresholds()
			if len(probs) > 0 {
				return nil, fmt.Errorf("pkcs11 %s: %s: %s", s.Library, probs[0].Key, probs[0].Msg)
			}
			var childEnv []string
			for _, k := range slices.Sorted(maps.Keys(s.Env)) {
				childEnv = append(childEnv, k+"="+s.Env[k])
			}
			return &probeSource{lib: s.Library, interval: interval, samples: env.Samples, log: log, thresholds: th,
				health: newHealthEvents(s.Library), spawner: Spawner{Env: childEnv}}, nil
		}})
}

// probeSource probes one library on a schedule, each probe in a child process (Spawner).
// A failed or stuck probe is counted and logged, raises the library.failure finding, and
// the next probe comes after a back-off: the interval, doubled at each failure in a row up
// to 10 times the interval; a probe that succeeds brings back the interval.
type probeSource struct {
	lib        string
	interval   time.Duration
	samples    component.Samples
	log        *slog.Logger
	thresholds Thresholds
	spawner    Spawner
	health     *healthEvents // used by Run's goroutine only

	probes, failures atomic.Int64
}

func (p *probeSource) Name() string { return "pkcs11:" + p.lib }

// Run probes until ctx ends.
func (p *probeSource) Run(ctx context.Context, emit component.Emit) error {
	failed := 0 // failures in a row
	for {
		if p.probe(ctx, emit) {
			failed = 0
		} else {
			failed++
		}
		t := time.NewTimer(backoff(p.interval, failed))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff is the wait before the next probe after failed failures in a row: the interval
// after none or one, then doubling (2, 4, 8 times the interval), at most 10 times it.
func backoff(interval time.Duration, failed int) time.Duration {
	w := interval
	for i := 1; i < failed && w < 10*interval; i++ {
		w *= 2
	}
	return min(w, 10*interval)
}

// probe probes the library once and emits the health events; it reports whether the
// probe succeeded.
func (p *probeSource) probe(ctx context.Context, emit component.Emit) bool {
	p.probes.Add(1)
	pctx, cancel := context.WithTimeout(ctx, max(p.interval, 10*time.Second))
	defer cancel()
	rep, err := p.spawner.ProbeReport(pctx, p.lib)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		p.failures.Add(1)
		attrs := []any{"source", p.Name(), "err", err}
		var ce *ChildError
		if errors.As(err, &ce) && ce.Stderr != "" {
			attrs = append(attrs, "stderr", ce.Stderr)
		}
		p.log.Warn("pkcs11 probe failed", attrs...)
		p.emit(ctx, emit, p.health.failure(time.Now(), err))
		return false
	}
	p.emit(ctx, emit, p.health.report(time.Now(), rep, p.thresholds))
	if p.samples == nil {
		return true
	}
	for _, t := range rep.Tokens {
		host := tokenHost(p.lib, t)
		if !p.health.watched(host) {
			continue // a free slot (healthEvents.report): no figures, no card
		}
		ss := append(tokenSamples(p.lib, t), healthSamples(p.lib, TokenHealth(t, p.thresholds))...)
		p.samples.PutSamples(ctx, host, t.ReadAt, ss)
	}
	return true
}

func (p *probeSource) emit(ctx context.Context, emit component.Emit, evs []event.Event) {
	if emit == nil {
		return
	}
	for i := range evs {
		if err := emit(ctx, component.Record{Event: &evs[i]}); err != nil {
			return // the context ended
		}
	}
}

// healthSamples are the verdicts of TokenHealth, the code "hsmwatch check token" and
// "check memory" report from: the token's status (the Nagios codes: 0 OK, 1 WARNING, 2
// CRITICAL, 3 UNKNOWN) and the memory in use, in percent.
func healthSamples(lib string, h Health) []component.Sample {
	labels := map[string]string{"library": lib, "slot": strconv.FormatUint(uint64(h.Token.Slot), 10), "serial": h.Token.Serial}
	out := []component.Sample{{Name: "pkcs11_token_status", Labels: labels, Value: float64(h.Status),
		Help: "Token health as hsmwatch check token judges it: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."}}
	for _, f := range h.Findings {
		if f.Memory == nil || f.Memory.Problem != MemoryFine {
			continue
		}
		out = append(out, component.Sample{Name: "pkcs11_" + f.Memory.Kind + "_memory_used_percent", Labels: labels, Value: f.Memory.Percent,
			Help: "Token memory in use, in percent of its total (p11memmon's figure)."})
	}
	return out
}

// tokenHost names a token: its label, else its serial, else its slot.
func tokenHost(lib string, t Token) string {
	switch {
	case t.Label != "":
		return t.Label
	case t.Serial != "":
		return t.Serial
	}
	return fmt.Sprintf("%s:slot%d", lib, t.Slot)
}

// tokenSamples are a token's figures, those the token reports as available.
func tokenSamples(lib string, t Token) []component.Sample {
	labels := map[string]string{"library": lib, "slot": strconv.FormatUint(uint64(t.Slot), 10), "serial": t.Serial}
	figures := []struct {
		name string
		v    Ulong
	}{
		{"pkcs11_sessions", t.Sessions}, {"pkcs11_rw_sessions", t.RWSessions},
		{"pkcs11_max_sessions", t.MaxSessions}, {"pkcs11_max_rw_sessions", t.MaxRWSessions},
		{"pkcs11_private_memory_total_bytes", t.TotalPrivateMemory}, {"pkcs11_private_memory_free_bytes", t.FreePrivateMemory},
		{"pkcs11_public_memory_total_bytes", t.TotalPublicMemory}, {"pkcs11_public_memory_free_bytes", t.FreePublicMemory},
	}
	var out []component.Sample
	for _, f := range figures {
		if f.v != Unavailable {
			out = append(out, component.Sample{Name: f.name, Labels: labels, Value: float64(f.v)})
		}
	}
	return out
}

// Figures implements component.Instrumented.
func (p *probeSource) Figures() []component.Figure {
	l := map[string]string{"source": p.Name()}
	return []component.Figure{
		{Name: "pkcs11_probes_total", Help: "PKCS#11 probes done.", Counter: true, Labels: l, Read: func() float64 { return float64(p.probes.Load()) }},
		{Name: "pkcs11_probe_failures_total", Help: "PKCS#11 probes that failed or found the library stuck.", Counter: true, Labels: l, Read: func() float64 { return float64(p.failures.Load()) }},
	}
}

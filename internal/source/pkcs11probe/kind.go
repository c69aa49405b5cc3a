package pkcs11probe

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
)

// DefaultInterval is how often a library is probed when no interval is given.
const DefaultInterval = time.Minute

// Spec is one sources.pkcs11 entry.
type Spec struct {
	Library  string          `yaml:"library"`
	Interval config.Duration `yaml:"interval"`
}

// ID is the library's path.
func (s *Spec) ID() string { return s.Library }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	if s.Library == "" {
		return []component.Problem{component.Problemf("library", "required")}
	}
	return nil
}

const sampleConfig = `# PKCS#11 libraries probed on a schedule: each token's sessions and memory go to
# /metrics and the store, under the token's label.
- library: /usr/lib/libCryptoki2_64.so
  interval: 1m
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "pkcs11",
		Doc: "probes PKCS#11 tokens (sessions, memory)", Sample: sampleConfig,
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
			return &probeSource{lib: s.Library, interval: interval, samples: env.Samples, log: log, thresholds: DefaultThresholds()}, nil
		}})
}

// probeSource probes one library on a schedule. A failed or stuck probe is counted and
// logged; the library is loaded at each probe, never kept open in between.
type probeSource struct {
	lib        string
	interval   time.Duration
	samples    component.Samples
	log        *slog.Logger
	thresholds Thresholds
	pr         Prober

	probes, failures atomic.Int64
}

func (p *probeSource) Name() string { return "pkcs11:" + p.lib }

// Run probes until ctx ends.
func (p *probeSource) Run(ctx context.Context, _ component.Emit) error {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		p.probe(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (p *probeSource) probe(ctx context.Context) {
	p.probes.Add(1)
	pctx, cancel := context.WithTimeout(ctx, max(p.interval, 10*time.Second))
	defer cancel()
	rep, err := p.pr.Probe(pctx, p.lib)
	if err != nil {
		p.failures.Add(1)
		if ctx.Err() == nil {
			p.log.Warn("pkcs11 probe failed", "source", p.Name(), "err", err)
		}
		return
	}
	if p.samples == nil {
		return
	}
	for _, t := range rep.Tokens {
		ss := append(tokenSamples(p.lib, t), healthSamples(p.lib, TokenHealth(t, p.thresholds))...)
		p.samples.PutSamples(ctx, tokenHost(p.lib, t), t.ReadAt, ss)
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

package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// samples hands the figures of polls and probes to /metrics (the latest) and to the
// store (their history, the dashboard's charts).
type samples struct {
	reg   *metrics.Registry
	store store.Store
	log   *slog.Logger
}

// PutSamples implements component.Samples.
func (s samples) PutSamples(ctx context.Context, host string, at time.Time, in []component.Sample) {
	if host == "" || len(in) == 0 {
		return
	}
	ms := make([]metrics.Sample, 0, len(in))
	ss := make([]store.Sample, 0, len(in))
	for _, x := range in {
		m := metrics.Sample{Host: host, Name: x.Name, Help: x.Help, Labels: x.Labels, Value: x.Value, Counter: x.Counter}
		if x.Metric != "" {
			m.Name, m.Help, m.Value = x.Metric, x.Help, x.MetricValue
		}
		ms = append(ms, m)
		ss = append(ss, store.Sample{Host: host, Metric: x.Name, Labels: x.Labels, Value: x.Value, Time: at})
	}
	s.reg.SetSamples(host, ms)
	if err := s.store.PutSamples(ctx, ss); err != nil && ctx.Err() == nil {
		s.log.Warn("storing samples", "host", host, "err", err)
	}
}

// ForgetSamples implements component.Samples.
func (s samples) ForgetSamples(host string) { s.reg.ForgetSamples(host) }

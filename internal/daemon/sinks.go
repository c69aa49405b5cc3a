package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink/alertmanager"
	"github.com/hsmwatch/hsmwatch/internal/sink/forward"
	"github.com/hsmwatch/hsmwatch/internal/sink/webhook"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// sinkPlans lists the configured outputs in order. The metrics sink and the dashboard's
// live hub are not configured: they are always there (pipelineSinks adds them).
func (d *Daemon) sinkPlans(cfg *config.Config, stateDir string, table *mib.Table) []plan {
	var ps []plan
	seen := map[string]int{}
	for _, w := range cfg.Sinks.Webhooks {
		ps = append(ps, d.webhookPlan(w, stateDir, seen))
	}
	for _, a := range cfg.Sinks.Alertmanager {
		ps = append(ps, plan{id: "alertmanager:" + a.URL, spec: spec(a), build: func(string) (*unit, error) {
			s, err := alertmanager.New(alertmanager.Config{URL: a.URL, Logger: d.log})
			if err != nil {
				return nil, err
			}
			return &unit{name: s.Name(), sink: s, run: func(ctx context.Context) error { s.Run(ctx); return nil }}, nil
		}})
	}
	for _, t := range cfg.Sinks.Syslog {
		ps = append(ps, plan{id: "syslog-forward:" + t.Address, spec: spec(t), build: func(owner string) (*unit, error) {
			s, err := forward.New(forward.Config{Address: t.Address})
			if err != nil {
				return nil, err
			}
			d.reg.FuncOf(owner, "syslog_forwarded_total", "Events forwarded as RFC 5424 forward.", true,
				map[string]string{"target": t.Address}, func() float64 { return float64(s.Sent()) })
			return &unit{name: s.Name(), sink: s, release: func() { s.Close() }}, nil
		}})
	}
	if len(cfg.Sinks.SNMPTraps) > 0 {
		ps = append(ps, plan{id: "snmp-traps", spec: spec(cfg.Sinks.SNMPTraps, cfg.MIBs), build: func(owner string) (*unit, error) {
			t, err := d.buildTrapSink(cfg.Sinks.SNMPTraps, table)
			if err != nil {
				return nil, err
			}
			d.reg.FuncOf(owner, "snmp_notifications_skipped_total", "SNMP notifications skipped because the send queue was full.", true, nil,
				func() float64 { return float64(t.skipped.Load()) })
			d.reg.FuncOf(owner, "snmp_notifications_sent_total", "SNMP notifications delivered, per target.", true, nil,
				func() float64 { return float64(t.s.Stats().Sent) })
			d.reg.FuncOf(owner, "snmp_notifications_failed_total", "SNMP notifications that failed, per target.", true, nil,
				func() float64 { return float64(t.s.Stats().Failed) })
			return &unit{name: t.Name(), sink: t, obj: t, run: func(ctx context.Context) error { t.Run(ctx); return nil }}, nil
		}})
	}
	if cfg.Sinks.Stdout {
		ps = append(ps, plan{id: "stdout", build: func(string) (*unit, error) {
			return &unit{sink: newStdoutSink(d.opts.Stdout)}, nil
		}})
	}
	return ps
}

// webhookPlan is one webhook. Its spool folder is named after its URL, not its place in
// the list: a reload that reorders the list, or changes the minimum level, hands the
// spool on to the sink with the same URL, which delivers what is left in it.
func (d *Daemon) webhookPlan(w config.Webhook, stateDir string, seen map[string]int) plan {
	// The id is a digest: a URL may carry a token, and ids appear in logs.
	key := w.URL
	if n := seen[w.URL]; n > 0 {
		key = fmt.Sprintf("%s#%d", key, n+1) // the same URL twice (two levels): two spools
	}
	seen[w.URL]++
	sum := sha256.Sum256([]byte(key))
	id := "webhook-" + hex.EncodeToString(sum[:8])
	spool := filepath.Join(stateDir, "spool", id)
	return plan{id: id, spec: spec(w), build: func(string) (*unit, error) {
		s, err := webhook.New(webhook.Config{URL: w.URL, MinLevel: w.MinLevel, SpoolDir: spool, Logger: d.log})
		if err != nil {
			return nil, err
		}
		return &unit{name: s.Name(), sink: s, run: s.Run}, nil
	}}
}

// pipelineSinks is what the pipeline hands every batch to: the metrics, the configured
// outputs, and the dashboard's live stream last.
func (d *Daemon) pipelineSinks(us []*unit) []pipeline.Sink {
	out := []pipeline.Sink{d.metricsSink}
	for _, u := range us {
		out = append(out, u.sink)
	}
	return append(out, d.hub)
}

// applySinks changes the outputs on the pipeline's goroutine, between two batches: the
// last batch before goes to the old sinks, the first after to the new ones, and a
// replaced sink's queue or spool passes to its successor with nothing in between.
func (d *Daemon) applySinks(ctx context.Context, plans []plan) (change, error) {
	var c change
	err := d.pipe.SetSinks(ctx, func([]pipeline.Sink) []pipeline.Sink {
		c = d.gen.diff(d.sinkUnits, plans)
		for _, u := range c.stopped {
			u.stop()
			d.reg.Forget(u.owner)
		}
		for _, u := range c.started {
			if t, ok := u.obj.(*trapSink); ok {
				for _, old := range c.stopped {
					if prev, ok := old.obj.(*trapSink); ok {
						t.adopt(prev)
					}
				}
			}
			u.start(d.sinkCtx, nil, d.log)
		}
		d.setSinkUnits(c.next)
		return d.pipelineSinks(c.next)
	})
	if err != nil {
		return c, fmt.Errorf("sinks: %w", err)
	}
	return c, errors.Join(c.failures...)
}

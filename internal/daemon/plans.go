package daemon

import (
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink"
)

// env is what the kinds' constructors get from this daemon for cfg.
func (d *Daemon) env(cfg *config.Config) component.Env {
	return component.Env{Logger: d.log, StateDir: d.stateDir, MIB: d.mibTable(cfg), Getenv: d.opts.Getenv,
		Stdout: d.opts.Stdout, Hosts: d.names, Samples: samples{reg: d.reg, store: d.store, log: d.log}}
}

func (d *Daemon) queueOptions() sink.QueueOptions {
	o := d.opts.Queue
	if o.Logger == nil {
		o.Logger = d.log
	}
	return o
}

// sourcePlans lists the configured sources, then the extra ones (tests, the demo).
func (d *Daemon) sourcePlans(cfg *config.Config, env component.Env) []plan {
	ps := plans(cfg.Sources.List, cfg.MIBs, env, d.queueOptions())
	for i, s := range d.opts.Extra {
		ps = append(ps, plan{id: fmt.Sprintf("extra:%d:%s", i, s.Name()),
			build:       func() (*unit, error) { return &unit{name: s.Name(), src: s}, nil },
			reconfigure: func(*unit) (bool, error) { return false, nil }})
	}
	return ps
}

// pipelineSinks is what the pipeline hands every batch to: the metrics (on the
// pipeline's goroutine, which owns the state it reads), the configured outputs' queues,
// and the dashboard's live stream last (it never blocks: a slow browser is dropped and
// reloads from the API).
func (d *Daemon) pipelineSinks(us []*unit) []component.Sink {
	out := []component.Sink{d.metricsSink}
	for _, u := range us {
		out = append(out, u.queue)
	}
	return append(out, d.hub)
}

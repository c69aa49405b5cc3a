package daemon

import (
	"sync/atomic"

	"github.com/hsmwatch/hsmwatch/internal/source/fifo"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
)

// atomicCounter counts for /metrics from any goroutine.
type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) add()           { c.n.Add(1) }
func (c *atomicCounter) value() float64 { return float64(c.n.Load()) }

// registerMetrics exposes the pipeline's and the log sources' counters (traps and polls
// register theirs where they are built).
func (d *Daemon) registerMetrics() {
	p := d.pipe
	gauge := func(name, help string, read func() float64) { d.reg.Func(name, help, false, nil, read) }
	counter := func(name, help string, read func() float64) { d.reg.Func(name, help, true, nil, read) }
	counter("pipeline_events_received_total", "Records queued by the sources.", func() float64 { return float64(p.Stats().Received) })
	counter("pipeline_events_processed_total", "Records classified and handed to the sinks.", func() float64 { return float64(p.Stats().Processed) })
	counter("pipeline_batches_total", "Batches written.", func() float64 { return float64(p.Stats().Batches) })
	gauge("pipeline_queue_depth", "Records waiting in the pipeline's queue.", func() float64 { return float64(p.Stats().QueueDepth) })
	counter("pipeline_durable_errors_total", "Failed writes to the store (retried).", func() float64 { return float64(p.Stats().DurableErrors) })
	counter("pipeline_sink_errors_total", "Failed batches of the other sinks.", func() float64 { return float64(p.Stats().SinkErrors) })
	counter("events_dropped_total", "Records lost by the pipeline: must stay 0.", func() float64 { return float64(p.Stats().Dropped) })
	counter("reloads_total", "Configuration reloads applied.", func() float64 { return float64(d.reloads.Load()) })
	counter("reload_failures_total", "Configuration reloads refused (the running configuration stays).", func() float64 { return float64(d.reloadFailures.Load()) })
	for _, s := range d.sources {
		l := map[string]string{"source": s.Name()}
		switch s := s.(type) {
		case *follow.Follower:
			d.reg.Func("lines_read_total", "Lines read by a log source.", true, l, func() float64 { return float64(s.Stats().Lines) })
			d.reg.Func("parse_failures_total", "Input a source could not parse (unparsed events, refused datagrams).", true, l, func() float64 { return float64(s.Stats().ParseFailures) })
		case *fifo.Reader:
			d.reg.Func("lines_read_total", "Lines read by a log source.", true, l, func() float64 { return float64(s.Stats().Lines) })
			d.reg.Func("parse_failures_total", "Input a source could not parse (unparsed events, refused datagrams).", true, l, func() float64 { return float64(s.Stats().ParseFailures) })
		case *syslog.Server:
			d.reg.Func("packets_read_total", "Datagrams or messages read by a network source.", true, l, func() float64 { return float64(s.Stats().Messages) })
			d.reg.Func("parse_failures_total", "Input a source could not parse (unparsed events, refused datagrams).", true, l, func() float64 { return float64(s.Stats().ParseFailures) })
			d.reg.Func("syslog_limited_total", "Syslog messages dropped by the per-sender rate limit.", true, l, func() float64 { return float64(s.Stats().Limited) })
			d.reg.Func("syslog_kernel_drops_total", "UDP datagrams the kernel dropped (buffer full).", true, l, func() float64 { return float64(s.Stats().KernelDrops) })
		}
	}
}

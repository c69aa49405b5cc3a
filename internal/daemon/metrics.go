package daemon

// registerMetrics exposes the pipeline's, the reloads' and the live stream's counters
// (each source and sink registers its own where it is built).
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
	counter("events_silenced_total", "Events a silence or a maintenance window covered: stored, kept from the sinks.", func() float64 { return float64(p.Stats().Silenced) })
	counter("events_dropped_total", "Records lost by the pipeline: must stay 0.", func() float64 { return float64(p.Stats().Dropped) })
	counter("reloads_total", "Configuration reloads applied.", func() float64 { return float64(d.reloads.Load()) })
	counter("reload_failures_total", "Configuration reloads refused (the running configuration stays).", func() float64 { return float64(d.reloadFailures.Load()) })
	h := d.hub
	gauge("live_clients", "Dashboards connected to the live stream.", func() float64 { return float64(h.Stats().Clients) })
	counter("live_published_total", "Batches handed to the dashboards' live streams.", func() float64 { return float64(h.Stats().Published) })
	counter("live_dropped_total", "Live streams ended because the browser read too slowly (it reconnects and reloads from the API).", func() float64 { return float64(h.Stats().Dropped) })
	counter("live_refused_total", "Live streams refused: too many, or the daemon was stopping.", func() float64 { return float64(h.Stats().Refused) })
}

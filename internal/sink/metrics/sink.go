package metrics

import (
	"context"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Sink counts the pipeline's events and refreshes the open alarms after each batch. It
// runs on the pipeline's goroutine, the one that owns the state tracker.
type Sink struct {
	Registry *Registry
	State    *state.Tracker
}

// Name implements component.Sink.
func (s Sink) Name() string { return "metrics" }

// Write implements component.Sink.
func (s Sink) Write(_ context.Context, batch []component.Item) error {
	for _, it := range batch {
		ev := it.Record.Event
		level := ev.Level
		if level == "" {
			level = "none"
		}
		s.Registry.CountEvent(ev.Host, ev.Component, level)
	}
	counts := map[[2]string]float64{}
	for _, a := range s.State.Active() {
		counts[[2]string{a.Host, a.Level}]++
	}
	s.Registry.SetAlarms(counts)
	return nil
}

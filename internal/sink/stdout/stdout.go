// Package stdout writes every event as a JSON line on the daemon's standard output
// (sinks.stdout: true), for a container's log collector or a pipe into jq.
package stdout

import (
	"context"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
)

// Spec is sinks.stdout: true or false.
type Spec struct{ On bool }

// UnmarshalYAML reads the boolean.
func (s *Spec) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode(&s.On); err != nil {
		return fmt.Errorf("line %d: want true or false", n.Line)
	}
	return nil
}

// ID implements component.Spec.
func (s *Spec) ID() string { return "stdout" }

// Enabled implements component.Switch.
func (s *Spec) Enabled() bool { return s.On }

const sampleConfig = `true   # every event as a JSON line on standard output
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "stdout", Single: true,
		Doc: "writes every event as a JSON line on standard output", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Sink: func(_ component.Spec, env component.Env) (component.Sink, error) {
			return New(env.Stdout), nil
		}})
}

// Sink writes JSON lines; its queue calls Write from one goroutine.
type Sink struct{ w *jsonl.Writer }

// New writes to w.
func New(w io.Writer) *Sink { return &Sink{w: jsonl.New(w)} }

// Name implements component.Sink.
func (s *Sink) Name() string { return "stdout" }

// Write implements component.Sink.
func (s *Sink) Write(_ context.Context, batch []component.Item) error {
	for _, it := range batch {
		if err := s.w.Write(it.Record.Event); err != nil {
			return fmt.Errorf("stdout: %w", err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	return nil
}

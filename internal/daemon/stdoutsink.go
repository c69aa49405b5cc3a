package daemon

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
)

// stdoutSink writes every event as a JSON line (sinks.stdout: true).
type stdoutSink struct {
	mu sync.Mutex
	w  *jsonl.Writer
}

func newStdoutSink(w io.Writer) *stdoutSink { return &stdoutSink{w: jsonl.New(w)} }

func (s *stdoutSink) Name() string { return "stdout" }

func (s *stdoutSink) Write(_ context.Context, batch []pipeline.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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

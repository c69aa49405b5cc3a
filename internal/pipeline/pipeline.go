package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Item is one classified event with what the state made of it.
type Item struct {
	Record   Record
	Decision state.Decision
}

// Sink receives the classified events in batches, in the order they were emitted.
type Sink interface {
	Name() string
	// Write handles one batch. A durable sink (the store) has committed the batch when
	// Write returns nil; the pipeline acknowledges the records to their sources only
	// then. A failing durable Write is retried, with back-off, until it succeeds or the
	// pipeline stops: nothing is dropped, the queue fills and sources slow down.
	Write(ctx context.Context, batch []Item) error
}

// Config sets up a pipeline.
type Config struct {
	// QueueSize bounds the records waiting to be processed (default 10000); a full queue
	// blocks the sources' Emit.
	QueueSize int
	// BatchSize and FlushInterval bound how long a record waits for its batch (defaults
	// 500 and 200ms).
	BatchSize     int
	FlushInterval time.Duration
	Catalog       *classify.Catalog
	State         *state.Tracker
	// Durable sinks must commit before records are acknowledged (the store); Sinks get
	// every batch after that (webhooks, SNMP notifications, metrics, the dashboard).
	// Their failures are counted and logged, never block the pipeline: each keeps its
	// own spool or retry policy.
	Durable []Sink
	Sinks   []Sink
	Logger  *slog.Logger
}

// Stats counts what the pipeline did.
type Stats struct {
	Received, Processed, Batches int64
	QueueDepth                   int
	DurableErrors, SinkErrors    int64
	// Dropped counts records lost by the pipeline: it has no path that drops, and the
	// metric exists to prove it stays 0.
	Dropped int64
}

// Pipeline classifies, tracks state and fans out records from many sources.
type Pipeline struct {
	cfg     Config
	queue   chan Record
	catalog atomic.Pointer[classify.Catalog]
	closing chan struct{}
	once    sync.Once

	received, processed, batches atomic.Int64
	durableErrors, sinkErrors    atomic.Int64
}

// New checks cfg and returns a pipeline; Run processes, Emit feeds it.
func New(cfg Config) (*Pipeline, error) {
	if cfg.State == nil {
		return nil, errors.New("pipeline: a state tracker is required")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 10000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{cfg: cfg, queue: make(chan Record, cfg.QueueSize), closing: make(chan struct{})}
	p.catalog.Store(cfg.Catalog)
	return p, nil
}

// ErrClosed is returned by Emit once the pipeline is draining.
var ErrClosed = errors.New("pipeline: closed")

// Emit queues one record, blocking while the queue is full. It is the Emit of every
// source.
func (p *Pipeline) Emit(ctx context.Context, r Record) error {
	if r.Event == nil {
		return errors.New("pipeline: record without event")
	}
	select {
	case <-p.closing:
		return ErrClosed
	default:
	}
	select {
	case p.queue <- r:
		p.received.Add(1)
		return nil
	case <-p.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetCatalog swaps the rule catalog (a reload); records already in a batch keep the old.
func (p *Pipeline) SetCatalog(c *classify.Catalog) { p.catalog.Store(c) }

// Close stops accepting records; Run then drains what is queued and returns. Call it
// after the sources have stopped, so that no emitted record is refused.
func (p *Pipeline) Close() { p.once.Do(func() { close(p.closing) }) }

// Stats returns the counters so far.
func (p *Pipeline) Stats() Stats {
	return Stats{Received: p.received.Load(), Processed: p.processed.Load(), Batches: p.batches.Load(),
		QueueDepth: len(p.queue), DurableErrors: p.durableErrors.Load(), SinkErrors: p.sinkErrors.Load()}
}

// Run processes records until Close has been called and the queue is empty (nil), or
// ctx ends (ctx.Err(): what is still queued stays unacknowledged, so sources that
// checkpoint read it again at the next start).
func (p *Pipeline) Run(ctx context.Context) error {
	batch := make([]Item, 0, p.cfg.BatchSize)
	timer := time.NewTimer(p.cfg.FlushInterval)
	defer timer.Stop()
	for {
		select {
		case r := <-p.queue:
			batch = append(batch, p.process(r))
			if len(batch) < p.cfg.BatchSize {
				continue
			}
		case <-timer.C:
			timer.Reset(p.cfg.FlushInterval)
		case <-p.closing:
			if len(p.queue) > 0 {
				r := <-p.queue
				batch = append(batch, p.process(r))
				if len(batch) < p.cfg.BatchSize {
					continue
				}
			} else {
				return p.flush(ctx, batch)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := p.flush(ctx, batch); err != nil {
			return err
		}
		batch = batch[:0]
	}
}

// process classifies one record and lets the state decide about it.
func (p *Pipeline) process(r Record) Item {
	ev := r.Event
	if c := p.catalog.Load(); c != nil && ev.Source != event.SourceUnparsed && ev.Rule == "" {
		c.Classify(ev)
	}
	return Item{Record: r, Decision: p.cfg.State.Observe(ev)}
}

// flush writes a batch to the durable sinks (retrying), acknowledges it, then hands it
// to the other sinks.
func (p *Pipeline) flush(ctx context.Context, batch []Item) error {
	if len(batch) == 0 {
		return nil
	}
	for _, s := range p.cfg.Durable {
		if err := p.writeDurable(ctx, s, batch); err != nil {
			return err
		}
	}
	for _, it := range batch {
		if it.Record.Ack != nil {
			it.Record.Ack()
		}
	}
	for _, s := range p.cfg.Sinks {
		if err := s.Write(ctx, batch); err != nil {
			p.sinkErrors.Add(1)
			p.cfg.Logger.Warn("sink failed", "sink", s.Name(), "events", len(batch), "err", err)
		}
	}
	p.processed.Add(int64(len(batch)))
	p.batches.Add(1)
	return nil
}

// writeDurable retries a durable sink with exponential back-off (100ms to 10s) until it
// takes the batch or ctx ends.
func (p *Pipeline) writeDurable(ctx context.Context, s Sink, batch []Item) error {
	wait := 100 * time.Millisecond
	for {
		err := s.Write(ctx, batch)
		if err == nil {
			return nil
		}
		p.durableErrors.Add(1)
		p.cfg.Logger.Error("durable sink failed; retrying, sources wait", "sink", s.Name(), "events", len(batch), "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("pipeline: %s: %w (last error: %v)", s.Name(), ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

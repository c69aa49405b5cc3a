// Package pipeline is the daemon's engine: sources emit records (internal/component),
// the pipeline classifies them, lets the state decide about them, writes each batch to
// the durable sink (the store) and acknowledges it, then hands it to the other sinks'
// queues (internal/sink).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Config sets up a pipeline.
type Config struct {
	// QueueSize bounds the records waiting to be processed (default 10000); a full queue
	// blocks the sources' Emit.
	QueueSize int
	// BatchSize and FlushInterval bound how long a record waits for its batch (defaults
	// 2000 and 200ms). Below 10,000 events/s the interval flushes first, so the size only
	// counts under load, where one commit per 2000 events costs about a fifth less CPU
	// per event than one per 500 (BenchmarkServeFollowSQLite, bench/README.md).
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
	// Tick is how often the state's clock is advanced without an event (default 1s;
	// negative: never), so that a held clear of a flapping alarm closes when its
	// hold-down ends rather than at the next event. Now reads the clock (default
	// time.Now).
	Tick time.Duration
	Now  func() time.Time
	// Mark, when set, runs on the pipeline's goroutine for every item after the state
	// decided about it and before it is stored: it marks the item's decision silenced (an
	// operator's silence or a maintenance window) or acknowledged. Silenced items are
	// stored and counted (Stats.Silenced), and the sinks' queues do not hand them on.
	Mark   func(it *Item, now time.Time)
	Logger *slog.Logger
}

// Stats counts what the pipeline did.
type Stats struct {
	Received, Processed, Batches int64
	QueueDepth                   int
	DurableErrors, SinkErrors    int64
	// Silenced counts the records a silence or a maintenance window covered.
	Silenced int64
	// Dropped counts records lost by the pipeline: it has no path that drops, and the
	// metric exists to prove it stays 0.
	Dropped int64
}

// Item and Sink are the contract's; the pipeline's own names read better in its code.
type (
	Item = component.Item
	Sink = component.Sink
)

// queued is what waits in the queue: a record, or a Do's function.
type queued struct {
	rec component.Record
	// do, on an entry the pipeline makes itself (Do), runs on the pipeline's goroutine
	// once every record queued before it has been flushed; done is closed then. inject,
	// on an entry of Inject, does the same and returns items to flush as a batch of their
	// own; *err is set to what that flush returned before done is closed.
	do     func()
	inject func() []Item
	err    *error
	done   chan struct{}
}

// Pipeline classifies, tracks state and fans out records from many sources.
type Pipeline struct {
	cfg     Config
	sinks   []Sink // owned by Run's goroutine; SetSinks changes it through Do
	queue   chan queued
	catalog atomic.Pointer[classify.Catalog]
	closing chan struct{}
	once    sync.Once

	received, processed, batches atomic.Int64
	durableErrors, sinkErrors    atomic.Int64
	silenced                     atomic.Int64
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
		cfg.BatchSize = 2000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick == 0 {
		cfg.Tick = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pipeline{cfg: cfg, sinks: cfg.Sinks, queue: make(chan queued, cfg.QueueSize), closing: make(chan struct{})}
	p.catalog.Store(cfg.Catalog)
	return p, nil
}

// ErrClosed is returned by Emit once the pipeline is draining.
var ErrClosed = errors.New("pipeline: closed")

// Emit queues one record, blocking while the queue is full. It is the Emit of every
// source.
func (p *Pipeline) Emit(ctx context.Context, r component.Record) error {
	if r.Event == nil {
		return errors.New("pipeline: record without event")
	}
	select {
	case <-p.closing:
		return ErrClosed
	default:
	}
	select {
	case p.queue <- queued{rec: r}:
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

// Do runs fn on the pipeline's goroutine once every record emitted before the call has
// been flushed (stored, acknowledged, handed to the sinks), and returns after fn. It is
// how a reload changes what only that goroutine may touch (the state tracker, the sinks)
// between two records, and with a no-op fn it is a barrier: a replaced source's records
// are through before its successor starts. Like Emit, it waits while the queue is full.
func (p *Pipeline) Do(ctx context.Context, fn func()) error {
	return p.enqueue(ctx, queued{do: fn})
}

// Inject runs fn on the pipeline's goroutine as Do does, and flushes the items fn
// returns as a batch of their own: stored, then handed to the sinks, as if a source had
// emitted them. It is how an operator's action changes the state and tells the sinks in
// one step (a manual close: the tracker closes the alarm, Alertmanager resolves it).
// The items are not classified, not observed by the state and not marked: fn made
// their decisions. It returns the durable sinks' error, if any.
func (p *Pipeline) Inject(ctx context.Context, fn func() []Item) error {
	var flushErr error
	if err := p.enqueue(ctx, queued{do: func() {}, inject: fn, err: &flushErr}); err != nil {
		return err
	}
	return flushErr
}

// enqueue queues a Do or Inject entry and waits until the pipeline ran it.
func (p *Pipeline) enqueue(ctx context.Context, q queued) error {
	q.done = make(chan struct{})
	select {
	case <-p.closing:
		return ErrClosed
	default:
	}
	select {
	case p.queue <- q:
	case <-p.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetSinks replaces the non-durable sinks (a reload) between two batches: every batch
// flushed before it went to the old ones, every later one goes to the ones next returns.
// next runs on the pipeline's goroutine while no batch is written, so it may also stop
// the sinks it replaces and start their successors (a webhook's spool changes hands with
// no batch in between).
func (p *Pipeline) SetSinks(ctx context.Context, next func(old []Sink) []Sink) error {
	return p.Do(ctx, func() { p.sinks = slices.Clone(next(slices.Clone(p.sinks))) })
}

// Close stops accepting records; Run then drains what is queued and returns. Call it
// after the sources have stopped, so that no emitted record is refused.
func (p *Pipeline) Close() { p.once.Do(func() { close(p.closing) }) }

// Stats returns the counters so far.
func (p *Pipeline) Stats() Stats {
	return Stats{Received: p.received.Load(), Processed: p.processed.Load(), Batches: p.batches.Load(),
		QueueDepth: len(p.queue), DurableErrors: p.durableErrors.Load(), SinkErrors: p.sinkErrors.Load(), Silenced: p.silenced.Load()}
}

// Run processes records until Close has been called and the queue is empty (nil), or
// ctx ends (ctx.Err(): what is still queued stays unacknowledged, so sources that
// checkpoint read it again at the next start).
//
// A full batch is committed by a writer goroutine while Run classifies the next one: the
// store's commit and the classification overlap, on two cores about as fast as the slower
// of the two alone. Batches are committed and acknowledged in order, one at a time; the
// other sinks get each committed batch back on Run's goroutine, in the same order, so
// that what they read of the state (the metrics' open alarms) is read where it is written.
func (p *Pipeline) Run(ctx context.Context) error {
	w := p.startWriter(ctx)
	defer w.stop()
	batch := make([]Item, 0, p.cfg.BatchSize)
	timer := time.NewTimer(p.cfg.FlushInterval)
	defer timer.Stop()
	var tick <-chan time.Time
	if p.cfg.Tick > 0 {
		t := time.NewTicker(p.cfg.Tick)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case r := <-p.queue:
			if r.do != nil {
				if err := p.control(ctx, w, batch, r); err != nil {
					return err
				}
				batch = w.buffer(batch)
				continue
			}
			batch = append(batch, p.process(r.rec))
			if len(batch) < p.cfg.BatchSize {
				continue
			}
		case b := <-w.committed:
			p.handOn(ctx, w, b)
			continue
		case err := <-w.failed:
			return err
		case <-timer.C:
			timer.Reset(p.cfg.FlushInterval)
		case <-tick:
			batch = p.advance(batch)
		case <-p.closing:
			if len(p.queue) > 0 {
				r := <-p.queue
				if r.do != nil {
					if err := p.control(ctx, w, batch, r); err != nil {
						return err
					}
					batch = w.buffer(batch)
					continue
				}
				batch = append(batch, p.process(r.rec))
				if len(batch) < p.cfg.BatchSize {
					continue
				}
			} else {
				if err := p.submit(ctx, w, batch); err != nil {
					return err
				}
				return p.drain(ctx, w)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := p.submit(ctx, w, batch); err != nil {
			return err
		}
		batch = w.buffer(batch)
	}
}

// writer commits batches to the durable sinks on a goroutine of its own. jobs carries
// batches to commit, and nil as a marker that drain waits for; committed gives them back,
// in order, committed and acknowledged; failed carries the error that ended it (the
// context's).
type writer struct {
	jobs      chan []Item
	committed chan []Item
	failed    chan error
	quit      chan struct{}
	wg        sync.WaitGroup
	spare     [][]Item // buffers handed back, owned by Run's goroutine
	size      int
}

func (p *Pipeline) startWriter(ctx context.Context) *writer {
	w := &writer{jobs: make(chan []Item, 1), committed: make(chan []Item), failed: make(chan error, 1),
		quit: make(chan struct{}), size: p.cfg.BatchSize}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			var b []Item
			select {
			case b = <-w.jobs:
			case <-w.quit:
				return
			}
			if b != nil {
				if err := p.commit(ctx, b); err != nil {
					w.failed <- err
					return
				}
			}
			select {
			case w.committed <- b:
			case <-w.quit:
				return
			}
		}
	}()
	return w
}

// stop ends the writer and waits for it: a commit under way finishes (or fails with the
// context) first, so that nothing of the pipeline outlives Run.
func (w *writer) stop() {
	close(w.quit)
	w.wg.Wait()
}

// fresh returns an empty batch buffer, a spare one when there is one.
func (w *writer) fresh() []Item {
	if n := len(w.spare); n > 0 {
		b := w.spare[n-1]
		w.spare = w.spare[:n-1]
		return b
	}
	return make([]Item, 0, w.size)
}

// buffer returns batch emptied when nothing of it was submitted, else a fresh buffer.
func (w *writer) buffer(batch []Item) []Item {
	if len(batch) == 0 {
		return batch
	}
	return w.fresh()
}

// submit hands a batch to the writer, handing on what it committed meanwhile; batch
// belongs to the writer afterwards.
func (p *Pipeline) submit(ctx context.Context, w *writer, batch []Item) error {
	if len(batch) == 0 {
		return nil
	}
	for {
		select {
		case w.jobs <- batch:
			return nil
		case b := <-w.committed:
			p.handOn(ctx, w, b)
		case err := <-w.failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// drain waits until every batch submitted has been committed and handed on.
func (p *Pipeline) drain(ctx context.Context, w *writer) error {
	marker := []Item(nil)
	sent := false
	for {
		var jobs chan []Item
		if !sent {
			jobs = w.jobs
		}
		select {
		case jobs <- marker:
			sent = true
		case b := <-w.committed:
			if b == nil {
				return nil
			}
			p.handOn(ctx, w, b)
		case err := <-w.failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// control flushes what is batched and waits for the writer, then runs a Do's function:
// it sees the state and the store with every record queued before it.
func (p *Pipeline) control(ctx context.Context, w *writer, batch []Item, r queued) error {
	if err := p.submit(ctx, w, batch); err != nil {
		return err
	}
	if err := p.drain(ctx, w); err != nil {
		return err
	}
	r.do()
	if r.inject != nil {
		items := r.inject()
		for i := range items {
			if items[i].Decision.Silenced {
				p.silenced.Add(1)
			}
		}
		err := p.flush(ctx, items)
		if r.err != nil {
			*r.err = err
		}
		if err != nil {
			close(r.done)
			return err
		}
	}
	close(r.done)
	return nil
}

// advance moves the state's clock to now; the held clears that matured become one event
// each, made by hsmwatch, whose decision carries the cleared alarm to the store and the
// sinks (Alertmanager resolves it, the dashboard closes it). The event is a clear (a
// de-assert of the alarm's notification): the held clear itself was kept from the sinks,
// so webhooks and the NMS learn here that the alarm is over.
func (p *Pipeline) advance(batch []Item) []Item {
	now := p.cfg.Now()
	for _, a := range p.cfg.State.Advance(now) {
		ev := &event.Event{Time: now, Host: a.Host, Source: event.SourceSelf, Process: "hsmwatch",
			Component: a.Component, Level: "info", Severity: "info", Title: "Alarm cleared after its hold-down",
			Notification: a.Notification, Assert: event.False,
			Message: fmt.Sprintf("alarm %s cleared: the clear held since %s (the alarm was flapping) was not followed by a new assert",
				a.Key, a.ClearHeld.UTC().Format(time.RFC3339)),
			Input: "hold-down"}
		ev.Raw = ev.Message
		ev.Fields.SetString("alarm_key", a.Key)
		ev.Fields.SetString("alarm_rule", a.Rule)
		state.MarkCleared(ev, a) // the alarm's level and id: a level filter lets it through as it let the open
		batch = append(batch, Item{Record: component.Record{Event: ev}, Decision: state.Decision{Change: state.Cleared, Matured: []state.Alarm{a}}})
	}
	return batch
}

// process classifies one record and lets the state decide about it.
func (p *Pipeline) process(r component.Record) Item {
	ev := r.Event
	if c := p.catalog.Load(); c != nil && ev.Rule == "" {
		c.Classify(ev)
	}
	it := Item{Record: r, Decision: p.cfg.State.Observe(ev)}
	if p.cfg.Mark != nil {
		p.cfg.Mark(&it, p.cfg.Now())
		if it.Decision.Silenced {
			p.silenced.Add(1)
		}
	}
	return it
}

// flush writes a batch to the durable sinks (retrying), acknowledges it, then hands it
// to the other sinks, all on the caller's goroutine (the writer is idle: control drained
// it).
func (p *Pipeline) flush(ctx context.Context, batch []Item) error {
	if len(batch) == 0 {
		return nil
	}
	if err := p.commit(ctx, batch); err != nil {
		return err
	}
	p.handOn(ctx, nil, batch)
	return nil
}

// commit writes a batch to the durable sinks (retrying) and acknowledges its records.
func (p *Pipeline) commit(ctx context.Context, batch []Item) error {
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
	return nil
}

// handOn gives a committed batch to the other sinks, but for records the store had
// already (Replayed: a file read again after a restart), and keeps its buffer for reuse
// when w is set.
func (p *Pipeline) handOn(ctx context.Context, w *writer, batch []Item) {
	defer func() {
		p.processed.Add(int64(len(batch)))
		p.batches.Add(1)
		if w != nil {
			clear(batch)
			w.spare = append(w.spare, batch[:0])
		}
	}()
	fresh, replays := batch, false
	for i, it := range batch {
		switch {
		case it.Replayed && !replays: // the first replay: keep what came before it
			fresh, replays = slices.Clone(batch[:i]), true
		case !it.Replayed && replays:
			fresh = append(fresh, it)
		}
	}
	if len(fresh) == 0 {
		return
	}
	for _, s := range p.sinks {
		if err := s.Write(ctx, fresh); err != nil {
			p.sinkErrors.Add(1)
			p.cfg.Logger.Warn("sink failed", "sink", s.Name(), "events", len(batch), "err", err)
		}
	}
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

// Package sink runs the daemon's outputs. Every sink but the store (the one durable sink,
// which gates acknowledgements in the pipeline) sits behind a Queue of its own: the
// pipeline hands it a batch and moves on, the queue delivers it on its own goroutine and
// retries with the shared Backoff. A target that is slow or dead fills its own queue and
// nothing else: when the queue is full, new batches are dropped and counted
// (hsmwatch_sink_dropped_total); the events are in the store all the same.
//
// The sinks themselves are the folders below: webhook, alertmanager, forward (syslog),
// snmptrap (SNMP notifications), stdout; each registers itself with internal/component.
package sink

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// DefaultQueueEvents bounds the events waiting in one sink's queue.
const DefaultQueueEvents = 20000

// Queue is one sink behind a bounded in-memory queue (or, for a sink whose Write is a
// disk spool, the spool itself). It implements component.Sink: the pipeline's Write only
// enqueues.
type Queue struct {
	sink    component.Sink
	spooled bool
	keeper  bool // the sink keeps alarm state (component.AlarmKeeper)
	max     int
	backoff Backoff
	log     *slog.Logger

	mu      sync.Mutex
	batches []entry
	depth   int  // events in batches
	busy    bool // a batch is being written
	wake    chan struct{}
	idle    chan struct{} // closed and replaced when the queue empties

	sent, failed, dropped, muted atomic.Int64
	warned                       atomic.Bool
}

// entry is one batch, or the open alarms an AlarmAware sink is told of when it starts.
type entry struct {
	items []component.Item
	open  []state.Alarm
	alarm bool // a snapshot of open alarms, not a batch
}

// QueueOptions tune a Queue; the zero value is the default.
type QueueOptions struct {
	MaxEvents int // default DefaultQueueEvents
	Backoff   Backoff
	Logger    *slog.Logger
}

// NewQueue puts s behind a queue.
func NewQueue(s component.Sink, o QueueOptions) *Queue {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultQueueEvents
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sp, ok := s.(component.Spooler)
	k, isKeeper := s.(component.AlarmKeeper)
	return &Queue{sink: s, spooled: ok && sp.Spooled(), keeper: isKeeper && k.KeepsAlarms(), max: o.MaxEvents, backoff: o.Backoff.withDefaults(),
		log: o.Logger, wake: make(chan struct{}, 1), idle: make(chan struct{})}
}

// Sink is the sink behind the queue.
func (q *Queue) Sink() component.Sink { return q.sink }

// Name is the sink's.
func (q *Queue) Name() string { return q.sink.Name() }

// Write enqueues batch and returns at once; a full queue drops it, counted. A spooled
// sink is written here: its spool is its queue. Muted items (component.Item.Muted: a
// silence, a maintenance window, the repeat of an acknowledged alarm) are left out and
// counted (hsmwatch_sink_muted_total), so that every sink honours the operators' silences
// without code of its own.
func (q *Queue) Write(ctx context.Context, batch []component.Item) error {
	batch = q.unmuted(batch)
	if len(batch) == 0 {
		return nil
	}
	if q.spooled {
		if err := q.sink.Write(ctx, batch); err != nil {
			q.failed.Add(1)
			return err
		}
		q.sent.Add(int64(len(batch)))
		return nil
	}
	q.mu.Lock()
	if q.depth+len(batch) > q.max {
		q.mu.Unlock()
		q.dropped.Add(int64(len(batch)))
		if !q.warned.Swap(true) {
			q.log.Warn("sink queue full: batches dropped (counted in hsmwatch_sink_dropped_total); the events are in the store",
				"sink", q.Name(), "max_events", q.max)
		}
		return nil
	}
	// The pipeline reuses nothing of a batch it handed on, but copy the slice header's
	// backing array all the same: the queue outlives the call.
	q.batches = append(q.batches, entry{items: append([]component.Item(nil), batch...)})
	q.depth += len(batch)
	q.mu.Unlock()
	q.signal()
	return nil
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// OpenAlarms tells the sink, when it is component.AlarmAware, of the alarms open now, in
// order with the batches: after those enqueued before, before those enqueued after. A
// spooled sink is told at once (its spool is its queue). The daemon calls it on the
// pipeline's goroutine when the sink starts.
func (q *Queue) OpenAlarms(open []state.Alarm) {
	aw, ok := q.sink.(component.AlarmAware)
	if !ok {
		return
	}
	if q.spooled {
		aw.OpenAlarms(context.Background(), open)
		return
	}
	q.mu.Lock()
	q.batches = append(q.batches, entry{open: append([]state.Alarm(nil), open...), alarm: true})
	q.mu.Unlock()
	q.signal()
}

// unmuted returns batch without its muted items (a copy when it drops any).
func (q *Queue) unmuted(batch []component.Item) []component.Item {
	for i, it := range batch {
		if !it.Muted(q.keeper) {
			continue
		}
		out := append(make([]component.Item, 0, len(batch)-1), batch[:i]...)
		for _, it := range batch[i+1:] {
			if !it.Muted(q.keeper) {
				out = append(out, it)
			}
		}
		q.muted.Add(int64(len(batch) - len(out)))
		return out
	}
	return batch
}

// Depth is the number of events waiting (0 for a spooled sink: see its spool).
func (q *Queue) Depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.depth
}

// Run delivers until ctx ends. The sink's own loop (component.Runner) runs beside it.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if r, ok := q.sink.(component.Runner); ok {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				q.log.Error("sink stopped with an error", "sink", q.Name(), "err", err)
			}
		})
	}
	if q.spooled {
		<-ctx.Done()
		return nil
	}
	for {
		batch, ok := q.next()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-q.wake:
				continue
			}
		}
		if batch.alarm {
			q.sink.(component.AlarmAware).OpenAlarms(ctx, batch.open)
		} else {
			q.deliver(ctx, batch.items)
		}
		q.done(len(batch.items))
		if ctx.Err() != nil {
			return nil
		}
	}
}

func (q *Queue) next() (entry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.batches) == 0 {
		return entry{}, false
	}
	b := q.batches[0]
	q.batches[0] = entry{}
	q.batches = q.batches[1:]
	q.busy = true
	return b, true
}

func (q *Queue) done(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.depth -= n
	q.busy = false
	if len(q.batches) == 0 {
		close(q.idle)
		q.idle = make(chan struct{})
	}
}

// deliver writes one batch, retrying with the back-off until it is taken or ctx ends.
func (q *Queue) deliver(ctx context.Context, batch []component.Item) {
	for attempt := 0; ; attempt++ {
		err := q.sink.Write(ctx, batch)
		if err == nil {
			q.sent.Add(int64(len(batch)))
			return
		}
		q.failed.Add(1)
		if ctx.Err() != nil {
			q.dropped.Add(int64(len(batch)))
			return
		}
		wait := q.backoff.Wait(attempt)
		q.log.Warn("sink failed; retrying", "sink", q.Name(), "events", len(batch), "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			q.dropped.Add(int64(len(batch)))
			return
		case <-t.C:
		}
	}
}

// Drain waits until every queued batch has been delivered (or given up) or ctx ends;
// the daemon calls it at a stop, after the pipeline drained and before the queue's
// context ends.
func (q *Queue) Drain(ctx context.Context) error {
	for {
		q.mu.Lock()
		empty := len(q.batches) == 0 && !q.busy
		idle := q.idle
		q.mu.Unlock()
		if empty || q.spooled {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return errors.Join(ctx.Err(), errors.New("sink "+q.Name()+": queue not drained"))
		}
	}
}

// Adopt takes the batches still waiting in prev, the queue of a sink a reload replaced,
// so that none is lost in the change (beyond this queue's bound, counted). The sink may
// take over more (component.Adopter).
func (q *Queue) Adopt(prev *Queue) {
	prev.mu.Lock()
	pending := prev.batches
	prev.batches, prev.depth = nil, 0
	prev.mu.Unlock()
	for _, b := range pending {
		if b.alarm {
			q.OpenAlarms(b.open)
			continue
		}
		_ = q.Write(context.Background(), b.items)
	}
	if a, ok := q.sink.(component.Adopter); ok {
		a.Adopt(prev.sink)
	}
}

// Figures are the queue's metrics, the same for every sink.
func (q *Queue) Figures() []component.Figure {
	l := map[string]string{"sink": q.Name()}
	return []component.Figure{
		{Name: "sink_queue_depth", Help: "Events waiting in a sink's queue.", Labels: l, Read: func() float64 { return float64(q.Depth()) }},
		{Name: "sink_sent_total", Help: "Events a sink took (delivered, or spooled for delivery).", Counter: true, Labels: l, Read: func() float64 { return float64(q.sent.Load()) }},
		{Name: "sink_failed_total", Help: "Writes to a sink that failed (each retried with back-off).", Counter: true, Labels: l, Read: func() float64 { return float64(q.failed.Load()) }},
		{Name: "sink_muted_total", Help: "Events kept from a sink: silenced, in a maintenance window, or repeats of an acknowledged alarm (they are in the store).", Counter: true, Labels: l, Read: func() float64 { return float64(q.muted.Load()) }},
		{Name: "sink_dropped_total", Help: "Events a sink never got: its queue was full, or the daemon stopped while it was failing.", Counter: true, Labels: l, Read: func() float64 { return float64(q.dropped.Load()) }},
	}
}

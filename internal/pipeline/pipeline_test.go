package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// memSink keeps what it is given; it fails its first failFirst writes, and blocks while
// gate is non-nil and open.
type memSink struct {
	mu        sync.Mutex
	name      string
	failFirst int
	calls     int
	items     []Item
	gate      chan struct{}
}

func (m *memSink) Name() string { return m.name }

func (m *memSink) Write(ctx context.Context, batch []Item) error {
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls <= m.failFirst {
		return errors.New("disk full")
	}
	m.items = append(m.items, batch...)
	return nil
}

func (m *memSink) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

func newPipeline(t *testing.T, cfg Config) *Pipeline {
	t.Helper()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{DedupWindow: -1, StormLimit: -1}, cat)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalog, cfg.State = cat, tr
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parsed(t *testing.T, line string) *event.Event {
	t.Helper()
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	ev := new(event.Event)
	parse.Into(p, line, ev)
	return ev
}

// Every record is classified, stored once, acknowledged in order after the store took
// it (even when the store failed at first), and reaches the other sinks.
func TestPipelineDeliversAndAcksInOrder(t *testing.T) {
	store := &memSink{name: "store", failFirst: 2}
	other := &memSink{name: "webhook"}
	p := newPipeline(t, Config{QueueSize: 64, BatchSize: 50, FlushInterval: 10 * time.Millisecond,
		Durable: []Sink{store}, Sinks: []Sink{other}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	const n = 1000
	var mu sync.Mutex
	var acked []int
	for i := 0; i < n; i++ {
		i := i
		line := fmt.Sprintf("2026 Nov 22 10:00:%02d lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted", i%60)
		err := p.Emit(ctx, component.Record{Event: parsed(t, line), Key: fmt.Sprint(i), Ack: func() {
			if store.len() == 0 {
				t.Error("acknowledged before the store had the record")
			}
			mu.Lock()
			acked = append(acked, i)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(acked) != n {
		t.Fatalf("acked %d of %d", len(acked), n)
	}
	for i, v := range acked {
		if v != i {
			t.Fatalf("ack %d is record %d: out of order", i, v)
		}
	}
	if store.len() != n || other.len() != n {
		t.Fatalf("store has %d, other sink %d, want %d", store.len(), other.len(), n)
	}
	first := store.items[0]
	if first.Record.Event.Rule != "luna.ipmi.psu-discrete-state" || first.Decision.Change != state.Opened {
		t.Errorf("first record: rule %q change %v", first.Record.Event.Rule, first.Decision.Change)
	}
	st := p.Stats()
	if st.Received != n || st.Processed != n || st.DurableErrors != 2 || st.Dropped != 0 || st.QueueDepth != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// A store that does not take records fills the queue, and then Emit blocks: the source
// slows down, nothing is dropped.
func TestPipelineBackPressure(t *testing.T) {
	store := &memSink{name: "store", gate: make(chan struct{})}
	p := newPipeline(t, Config{QueueSize: 4, BatchSize: 2, FlushInterval: time.Millisecond, Durable: []Sink{store}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	line := "2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719"
	// The writer holds one batch (2) waiting on the store; the queue holds 4 more.
	accepted := 0
	for accepted < 6 {
		if err := p.Emit(ctx, component.Record{Event: parsed(t, line)}); err != nil {
			t.Fatal(err)
		}
		accepted++
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	var blocked error
	// Beyond them the writer's queue of one batch and the loop's next batch (2 + 2) may
	// fit, and one more while the loop takes its batch: the bound is the queue and three
	// batches, never more.
	for i := 0; i < 7 && blocked == nil; i++ {
		blocked = p.Emit(short, component.Record{Event: parsed(t, line)})
		if blocked == nil {
			accepted++
		}
	}
	if !errors.Is(blocked, context.DeadlineExceeded) {
		t.Fatalf("Emit on a full queue returned %v, want it to block until its deadline", blocked)
	}
	close(store.gate) // the store comes back
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.len() != accepted {
		t.Fatalf("store has %d of the %d accepted records", store.len(), accepted)
	}
	if err := p.Emit(ctx, component.Record{Event: parsed(t, line)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Emit after Close: %v", err)
	}
}

// When the pipeline is stopped hard (ctx), records still queued are not acknowledged, so
// a checkpointing source reads them again at the next start.
func TestPipelineStopLeavesUnackedQueued(t *testing.T) {
	store := &memSink{name: "store", gate: make(chan struct{})}
	p := newPipeline(t, Config{QueueSize: 100, BatchSize: 10, FlushInterval: time.Millisecond, Durable: []Sink{store}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	acked := 0
	var mu sync.Mutex
	for i := 0; i < 20; i++ {
		err := p.Emit(context.Background(), component.Record{Event: parsed(t, "2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : x"),
			Ack: func() { mu.Lock(); acked++; mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v", err)
	}
	if acked != 0 || store.len() != 0 {
		t.Fatalf("acked %d, stored %d after a hard stop before the store answered", acked, store.len())
	}
}

// keySink is a durable sink that, like the store, keeps a key once and marks a record
// it already held as replayed.
type keySink struct {
	memSink
	held map[string]bool
}

func (k *keySink) Write(ctx context.Context, batch []Item) error {
	for i := range batch {
		if key := batch[i].Record.Key; key != "" {
			batch[i].Replayed = k.held[key]
			k.held[key] = true
		}
	}
	return k.memSink.Write(ctx, batch)
}

func lunashLine(i int) string {
	return fmt.Sprintf("2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/%d", i)
}

// Records read again after a crash (keys the store already held) are acknowledged but
// do not reach the other sinks a second time; the fresh ones around them do, in order.
func TestPipelineReplayedRecordsSkipSinks(t *testing.T) {
	store := &keySink{memSink: memSink{name: "store"}, held: map[string]bool{"k1": true, "k2": true, "k5": true}}
	other := &memSink{name: "webhook"}
	p := newPipeline(t, Config{BatchSize: 100, FlushInterval: time.Hour, Tick: -1, Durable: []Sink{store}, Sinks: []Sink{other}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	acks := 0
	for i := range 7 {
		err := p.Emit(ctx, component.Record{Event: parsed(t, lunashLine(i)), Key: fmt.Sprintf("k%d", i), Ack: func() { acks++ }})
		if err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range other.items {
		got = append(got, it.Record.Key)
	}
	if want := []string{"k0", "k3", "k4", "k6"}; fmt.Sprint(got) != fmt.Sprint(want) || acks != 7 || store.len() != 7 {
		t.Fatalf("other sink got %v (want %v), %d acks, store %d", got, want, acks, store.len())
	}
}

// Do runs between two records, after everything emitted before it is flushed: it is
// the barrier a reload uses, and SetSinks hands later batches to the new sinks only.
func TestPipelineDoAndSetSinks(t *testing.T) {
	store := &memSink{name: "store"}
	before, after := &memSink{name: "before"}, &memSink{name: "after"}
	p := newPipeline(t, Config{BatchSize: 1000, FlushInterval: time.Hour, Tick: -1, Durable: []Sink{store}, Sinks: []Sink{before}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for i := range 5 {
		if err := p.Emit(ctx, component.Record{Event: parsed(t, lunashLine(i))}); err != nil {
			t.Fatal(err)
		}
	}
	// The batch is far from full and the flush interval an hour away: only Do flushes it.
	storedAtDo := -1
	if err := p.Do(ctx, func() { storedAtDo = store.len() }); err != nil {
		t.Fatal(err)
	}
	if storedAtDo != 5 {
		t.Fatalf("Do ran with %d of the 5 earlier records stored", storedAtDo)
	}
	var old []Sink
	if err := p.SetSinks(ctx, func(o []Sink) []Sink { old = o; return []Sink{after} }); err != nil {
		t.Fatal(err)
	}
	if len(old) != 1 || old[0] != Sink(before) {
		t.Fatalf("SetSinks was handed %v as the old sinks", old)
	}
	if err := p.Do(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := p.Emit(ctx, component.Record{Event: parsed(t, lunashLine(10+i))}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if before.len() != 5 || after.len() != 3 || store.len() != 8 {
		t.Fatalf("old sinks %d (want 5), new sinks %d (want 3), store %d (want 8)", before.len(), after.len(), store.len())
	}
	if err := p.Do(ctx, func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
}

// The tick advances the state's clock without events: a held clear of a flapping alarm
// closes when its hold-down ends, as an event of hsmwatch's own whose decision carries
// the cleared alarm to the store and the sinks.
func TestPipelineTickMaturesHeldClear(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{DedupWindow: -1, StormLimit: -1, FlapCount: 2, FlapWindow: time.Hour, HoldDown: time.Minute}, cat)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store, other := &memSink{name: "store"}, &memSink{name: "alertmanager"}
	p, err := New(Config{Catalog: cat, State: tr, BatchSize: 1, Tick: time.Millisecond, Now: clock,
		Durable: []Sink{store}, Sinks: []Sink{other}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	const fail = "2026 Nov 22 10:00:0%d lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted"
	const ok = "2026 Nov 22 10:00:0%d lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted"
	for i, line := range []string{fail, ok, fail, ok} {
		if err := p.Emit(ctx, component.Record{Event: parsed(t, fmt.Sprintf(line, i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Do(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
	if last := store.items[len(store.items)-1]; last.Decision.Change != state.ClearHeld {
		t.Fatalf("the second clear: %v, want it held (flapping)", last.Decision.Change)
	}
	mu.Lock()
	now = base.Add(90 * time.Second) // past the hold-down
	mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for store.len() < 5 && time.Now().Before(deadline) {
		if err := p.Do(ctx, func() {}); err != nil { // waits for the tick's batch to flush
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.len() != 5 || other.len() != 5 {
		t.Fatalf("store %d, other sink %d items; want the 4 lines and one matured clear", store.len(), other.len())
	}
	m := store.items[4]
	if ev := m.Record.Event; ev.Source != event.SourceSelf || ev.Host != "lunaA" || ev.Assert != event.False || !m.Decision.Emit() ||
		len(m.Decision.Matured) != 1 || m.Decision.Matured[0].Cleared.IsZero() {
		t.Fatalf("matured item: event %+v decision %+v", ev, m.Decision)
	}
	if got := tr.Active(); len(got) != 0 {
		t.Fatalf("alarm still open after maturing: %+v", got)
	}
}

// Mark runs on every record before the store: a silenced record is stored and counted.
// Inject flushes what came before, runs its function, and stores and fans out the items
// it returns as a batch of their own.
func TestPipelineMarkAndInject(t *testing.T) {
	store, other := &memSink{name: "store"}, &memSink{name: "other"}
	p := newPipeline(t, Config{BatchSize: 1000, FlushInterval: time.Hour, Tick: -1, Durable: []Sink{store}, Sinks: []Sink{other},
		Mark: func(it *Item, _ time.Time) {
			if strings.Contains(it.Record.Event.Message, "silence me") {
				it.Decision.Silenced, it.Decision.MutedBy = true, "silence 1"
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for _, m := range []string{"plain", "silence me"} {
		if err := p.Emit(ctx, component.Record{Event: &event.Event{Host: "h", Message: m, Raw: m}}); err != nil {
			t.Fatal(err)
		}
	}
	storedAtInject := -1
	err := p.Inject(ctx, func() []Item {
		storedAtInject = store.len()
		return []Item{{Record: component.Record{Event: &event.Event{Host: "h", Message: "injected", Raw: "injected"}},
			Decision: state.Decision{Change: state.Repeated, Acknowledged: true}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if storedAtInject != 2 || store.len() != 3 || other.len() != 3 {
		t.Fatalf("stored %d before the injection (want 2), %d after (want 3); other sink %d (want 3)", storedAtInject, store.len(), other.len())
	}
	if it := store.items[1]; !it.Decision.Silenced || it.Decision.MutedBy != "silence 1" || store.items[0].Decision.Silenced {
		t.Errorf("marks: %+v / %+v", store.items[0].Decision, it.Decision)
	}
	if it := store.items[2]; it.Record.Event.Message != "injected" || !it.Decision.Acknowledged {
		t.Errorf("the injected item: %+v", it)
	}
	if st := p.Stats(); st.Silenced != 1 {
		t.Errorf("silenced %d, want 1", st.Silenced)
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(ctx, func() []Item { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Inject after Close: %v", err)
	}
}

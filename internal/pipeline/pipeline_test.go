package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
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
		err := p.Emit(ctx, Record{Event: parsed(t, line), Key: fmt.Sprint(i), Ack: func() {
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
	// The run loop holds one batch (2) waiting on the store; the queue holds 4 more.
	accepted := 0
	for accepted < 6 {
		if err := p.Emit(ctx, Record{Event: parsed(t, line)}); err != nil {
			t.Fatal(err)
		}
		accepted++
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	var blocked error
	for i := 0; i < 3 && blocked == nil; i++ { // one more may fit while the loop takes its batch
		blocked = p.Emit(short, Record{Event: parsed(t, line)})
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
	if err := p.Emit(ctx, Record{Event: parsed(t, line)}); !errors.Is(err, ErrClosed) {
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
		err := p.Emit(context.Background(), Record{Event: parsed(t, "2026 Nov 22 10:00:00 lunaA local5 info lunash [3442]: info : 0 : x"),
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

package sink

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// stuck never returns from Write until released: a target that accepts and never
// answers.
type stuck struct {
	release chan struct{}
	got     atomic.Int64
}

func (s *stuck) Name() string { return "stuck" }
func (s *stuck) Write(ctx context.Context, b []component.Item) error {
	select {
	case <-s.release:
		s.got.Add(int64(len(b)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flaky fails its first n writes.
type flaky struct {
	mu    sync.Mutex
	fails int
	got   []string
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Write(_ context.Context, b []component.Item) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("target down")
	}
	for _, it := range b {
		f.got = append(f.got, it.Record.Event.Message)
	}
	return nil
}

func (f *flaky) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func batch(msgs ...string) []component.Item {
	out := make([]component.Item, len(msgs))
	for i, m := range msgs {
		out[i] = component.Item{Record: component.Record{Event: &event.Event{Message: m}}}
	}
	return out
}

func figure(q *Queue, name string) float64 {
	for _, f := range q.Figures() {
		if f.Name == name {
			return f.Read()
		}
	}
	return -1
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A stuck target fills its own queue: Write never blocks the caller, what does not fit
// is dropped and counted, and nothing is lost without being counted.
func TestStuckSinkNeverBlocks(t *testing.T) {
	s := &stuck{release: make(chan struct{})}
	q := NewQueue(s, QueueOptions{MaxEvents: 10})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = q.Run(ctx) }()

	start := time.Now()
	for range 20 {
		if err := q.Write(ctx, batch("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Write blocked for %v", d)
	}
	// One batch is in the stuck Write (2 events), at most 10 wait, the rest dropped.
	waitFor(t, "the counts to settle", func() bool { return figure(q, "sink_dropped_total")+figure(q, "sink_queue_depth") == 40 })
	if d := figure(q, "sink_dropped_total"); d < 28 || d > 30 {
		t.Errorf("dropped %v, want 28 to 30", d)
	}
	close(s.release)
	waitFor(t, "the queue to drain", func() bool { return q.Depth() == 0 })
	if got, dropped := s.got.Load(), figure(q, "sink_dropped_total"); float64(got)+dropped != 40 || figure(q, "sink_sent_total") != float64(got) {
		t.Errorf("delivered %d + dropped %v != 40 (sent_total %v)", got, dropped, figure(q, "sink_sent_total"))
	}
	cancel()
	<-done
}

// A failing target is retried with the back-off, in order, until it takes the batch.
func TestRetryInOrder(t *testing.T) {
	f := &flaky{fails: 3}
	q := NewQueue(f, QueueOptions{Backoff: Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Run(ctx) }()
	for _, m := range []string{"1", "2", "3"} {
		_ = q.Write(ctx, batch(m))
	}
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	if err := q.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	if got := f.messages(); len(got) != 3 || got[0] != "1" || got[2] != "3" {
		t.Errorf("delivered %v, want [1 2 3]", got)
	}
	if figure(q, "sink_failed_total") != 3 || figure(q, "sink_sent_total") != 3 || figure(q, "sink_dropped_total") != 0 {
		t.Errorf("failed %v sent %v dropped %v", figure(q, "sink_failed_total"), figure(q, "sink_sent_total"), figure(q, "sink_dropped_total"))
	}
}

// A replacement takes what its predecessor still had queued.
func TestAdopt(t *testing.T) {
	old := NewQueue(&flaky{}, QueueOptions{})
	_ = old.Write(context.Background(), batch("x", "y"))
	f := &flaky{}
	q := NewQueue(f, QueueOptions{})
	q.Adopt(old)
	if old.Depth() != 0 || q.Depth() != 2 {
		t.Fatalf("depths after adopt: old %d new %d", old.Depth(), q.Depth())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Run(ctx) }()
	waitFor(t, "delivery", func() bool { return len(f.messages()) == 2 })
}

// Drain gives up when its context ends, and says which sink.
func TestDrainBounded(t *testing.T) {
	s := &stuck{release: make(chan struct{})}
	q := NewQueue(s, QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Run(ctx) }()
	_ = q.Write(ctx, batch("a"))
	dctx, dcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer dcancel()
	if err := q.Drain(dctx); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Drain: %v", err)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	prev := time.Duration(0)
	for i := range 10 {
		w := b.Wait(i)
		if w > time.Second || w < 75*time.Millisecond {
			t.Errorf("attempt %d: %v out of [75ms, 1s]", i, w)
		}
		if i < 3 && w <= prev/2 {
			t.Errorf("attempt %d: %v did not grow from %v", i, w, prev)
		}
		prev = w
	}
}

// keeper is a flaky sink that keeps alarm state (Alertmanager's kind).
type keeper struct{ flaky }

func (*keeper) KeepsAlarms() bool { return true }

// Silenced items reach no sink; the repeats of an acknowledged alarm reach only a sink
// that keeps alarm state; both are counted as muted.
func TestMutedItems(t *testing.T) {
	b := batch("plain", "silenced", "acked repeat", "acked opened", "last")
	b[1].Decision.Silenced = true
	b[2].Decision.Acknowledged, b[2].Decision.Change = true, state.Repeated
	b[3].Decision.Acknowledged, b[3].Decision.Change = true, state.Opened
	plain, keeps := &flaky{}, &keeper{}
	for _, tc := range []struct {
		s     component.Sink
		got   func() []string
		want  string
		muted float64
	}{
		{plain, plain.messages, "plain,acked opened,last", 2},
		{keeps, keeps.messages, "plain,acked repeat,acked opened,last", 1},
	} {
		q := NewQueue(tc.s, QueueOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); q.Run(ctx) }()
		if err := q.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the batch delivered", func() bool { return len(tc.got()) == strings.Count(tc.want, ",")+1 })
		if got := strings.Join(tc.got(), ","); got != tc.want {
			t.Errorf("%T got %s, want %s", tc.s, got, tc.want)
		}
		if m := figure(q, "sink_muted_total"); m != tc.muted {
			t.Errorf("%T muted %v, want %v", tc.s, m, tc.muted)
		}
		cancel()
		<-done
	}
	if !b[1].Decision.Silenced || b[0].Record.Event.Message != "plain" {
		t.Error("the queue changed the caller's batch")
	}
}

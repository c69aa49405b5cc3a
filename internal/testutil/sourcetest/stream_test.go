package sourcetest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// fakeSource reads numbered messages from in and emits each as an event stamped with the
// phase in force when it was read; bad, when set, may change an event before it goes out
// (a duplicate is a second event of the same number).
type fakeSource struct {
	phase atomic.Int64
	in    chan int
	out   chan *event.Event
	bad   func(n int, ev *event.Event) []*event.Event
}

func runFake(bad func(int, *event.Event) []*event.Event) *fakeSource {
	f := &fakeSource{in: make(chan int, 8), out: make(chan *event.Event, 64), bad: bad}
	go func() {
		defer close(f.out)
		for n := range f.in {
			ev := &event.Event{Raw: strconv.Itoa(n), Host: strconv.FormatInt(f.phase.Load(), 10)}
			evs := []*event.Event{ev}
			if f.bad != nil {
				evs = f.bad(n, ev)
			}
			for _, ev := range evs {
				f.out <- ev
			}
		}
	}()
	return f
}

func fitsHost(i int, ev *event.Event) bool { return ev.Host == strconv.Itoa(i) }

// stream runs a stream through f for phases+1 phases and stops it, ready for Check.
func (f *fakeSource) stream(t *testing.T, phases int) *Stream {
	s := NewStream("fake", 4, 10*time.Second, func(n int) error { f.in <- n; return nil })
	collect := Collect(t, f.out, func(ev *event.Event) {
		n, err := strconv.Atoi(ev.Raw)
		if err != nil {
			t.Errorf("raw %q", ev.Raw)
			return
		}
		s.Add(n, ev)
	})
	send := Send(t, s)
	s.Settle(t, 10)
	for i := 1; i <= phases; i++ {
		f.phase.Store(int64(i))
		s.NextPhase()
		s.Settle(t, 10)
	}
	send()
	s.WaitAll(t)
	close(f.in)
	collect()
	return s
}

func TestStream(t *testing.T) {
	s := runFake(nil).stream(t, 3)
	s.Check(t, fitsHost)
	if s.Sent() < 40 {
		t.Errorf("%d sent, want at least 10 a phase", s.Sent())
	}
}

// failures records what Check reports instead of failing the test.
type failures struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func (f *failures) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(f) // ends Check; recovered below
}

func (f *failures) check(s *Stream) (reported string) {
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		reported = strings.Join(f.msgs, "\n")
	}()
	s.Check(f, fitsHost)
	return
}

// TestStreamReports: a duplicate does not stall the stream and is reported; a message
// read with the settings of no neighbouring phase fails the check.
func TestStreamReports(t *testing.T) {
	src := runFake(func(n int, ev *event.Event) []*event.Event {
		switch n {
		case 5:
			return []*event.Event{ev, ev}
		case 7:
			ev.Host = "elsewhere"
		}
		return []*event.Event{ev}
	})
	s := src.stream(t, 2)
	got := (&failures{TB: t}).check(s)
	for _, want := range []string{"fake: message 5: 2 events", "fake: message 7 of phase 0 (strict below"} {
		if !strings.Contains(got, want) {
			t.Errorf("reported %q, want %q", got, want)
		}
	}
}

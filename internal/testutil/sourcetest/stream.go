package sourcetest

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// Stream sends numbered messages into a source while the test reconfigures it, and
// records the event each number became: the harness the Reconfigure tests of every
// source share (syslog sockets, named pipes, trap receivers). What they check is the
// same whatever the source: every message comes out exactly once, and with the settings
// of the phase it was sent in.
//
// At most window messages are unseen at a time (sent, not yet given to Add): a pace that
// never fills a socket buffer (a loopback UDP drop would be the test's fault, not the
// source's), and a stall, reported after wait, when the source loses messages.
//
// Phase 0 runs from the start; phase i from the i-th NextPhase. A test ends each phase
// with Settle, calls Reconfigure, then NextPhase; once the senders stopped, WaitAll, then
// (the collector stopped) Check.
type Stream struct {
	Name   string // the stream in failure messages
	send   func(n int) error
	wait   time.Duration
	window chan struct{}

	started atomic.Int64 // messages whose send has begun
	written atomic.Int64 // messages whose send returned

	mu     sync.Mutex
	got    map[int][]*event.Event
	prefix int // every message below it has arrived

	// By phase, used by the test's goroutine only. lo: the first message whose send began
	// after the call that opened the phase returned; hi: every message below it arrived
	// before the next call began.
	lo, hi []int
}

// NewStream returns a stream whose message n is sent by send (from Send's goroutine), at
// most window of them unseen; wait bounds every wait of the stream's.
func NewStream(name string, window int, wait time.Duration, send func(n int) error) *Stream {
	return &Stream{Name: name, send: send, wait: wait, window: make(chan struct{}, window),
		got: map[int][]*event.Event{}, lo: []int{0}}
}

// Send runs the senders of streams, one goroutine each, until the returned stop, which
// waits for them: after it, what a stream sent is final. Stop runs at Cleanup too
// (calling it twice is harmless), so that on a failure the senders stop before what
// they write to closes (its cleanup was registered earlier: it runs later).
func Send(t testing.TB, streams ...*Stream) (stop func()) {
	quit := make(chan struct{})
	var senders sync.WaitGroup
	for _, s := range streams {
		senders.Go(func() { s.run(t, quit) })
	}
	stop = sync.OnceFunc(func() {
		close(quit)
		senders.Wait()
	})
	t.Cleanup(stop)
	return stop
}

// run sends until quit closes; it fails the test when the window stays shut (messages
// lost) or a send fails.
func (s *Stream) run(t testing.TB, quit <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-quit:
			return
		case s.window <- struct{}{}:
		case <-time.After(s.wait):
			t.Errorf("%s: message %d: the window did not open in %v (messages lost?)", s.Name, n, s.wait)
			return
		}
		s.started.Add(1)
		if err := s.send(n); err != nil {
			t.Errorf("%s: message %d: %v", s.Name, n, err)
			return
		}
		s.written.Add(1)
	}
}

// Collect gives take every value ch receives, in a goroutine of its own, until the
// returned stop (or ch closes); stop then gives take what ch still holds and returns
// once take is done. Where a late duplicate must be caught, stop the source first: the
// duplicate is then in ch, and Check sees it. Stop runs at Cleanup too (calling it twice
// is harmless).
func Collect[T any](t testing.TB, ch <-chan T, take func(T)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for stopping := false; ; {
			var v T
			var ok bool
			if stopping {
				select {
				case v, ok = <-ch:
				default:
					return // all taken
				}
			} else {
				select {
				case v, ok = <-ch:
				case <-quit:
					stopping = true
					continue
				}
			}
			if !ok {
				return
			}
			take(v)
		}
	}()
	stop = sync.OnceFunc(func() {
		close(quit)
		<-done
	})
	t.Cleanup(stop)
	return stop
}

// Add records ev as message n of the stream and opens the window by one. A duplicate
// finds no slot to free and leaves the window alone (waiting for one would hang the
// collector): Check reports it.
func (s *Stream) Add(n int, ev *event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[n] = append(s.got[n], ev)
	for len(s.got[s.prefix]) > 0 {
		s.prefix++
	}
	select {
	case <-s.window:
	default:
	}
}

func (s *Stream) arrived(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prefix >= n
}

// Sent is how many messages were sent (their send returned).
func (s *Stream) Sent() int { return int(s.written.Load()) }

// Settle ends the current phase: it waits until at least min messages were sent in it,
// then until every message sent by then arrived. Those were read before the next call
// began, so Check holds them to this phase's settings strictly.
func (s *Stream) Settle(t testing.TB, min int) {
	t.Helper()
	i := len(s.lo) - 1
	testutil.WaitFor(t, s.Name+" messages after the call", s.wait, func() bool { return s.Sent() >= s.lo[i]+min })
	hi := s.Sent()
	testutil.WaitFor(t, s.Name+" messages of the phase", s.wait, func() bool { return s.arrived(hi) })
	s.hi = append(s.hi[:i], hi)
}

// NextPhase opens the next phase; call it as soon as Reconfigure has returned: every
// message whose send begins from now on must be read with the new settings.
func (s *Stream) NextPhase() {
	if len(s.hi) != len(s.lo) {
		panic("sourcetest: NextPhase before Settle ended phase " + s.Name)
	}
	s.lo = append(s.lo, int(s.started.Load()))
}

// WaitAll waits until every message sent arrived and returns how many were sent; call
// it once Send's stop returned.
func (s *Stream) WaitAll(t testing.TB) int {
	t.Helper()
	total := s.Sent()
	testutil.WaitFor(t, "every "+s.Name+" message", s.wait, func() bool { return s.arrived(total) })
	return total
}

// Check, once the collector is stopped, reports every number that came out more than
// once or was never sent, and fails the test at the first message not made with the
// settings of its phase; fits tells whether ev was made with phase i's. A message sent
// around a call (from the phase's hi to the next phase's lo) may have the settings from
// before the call or those from after it.
func (s *Stream) Check(t testing.TB, fits func(i int, ev *event.Event) bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	total := s.Sent()
	for n, evs := range s.got {
		if n >= total || len(evs) != 1 {
			t.Errorf("%s: message %d: %d events (%d sent)", s.Name, n, len(evs), total)
		}
	}
	for i, lo := range s.lo {
		hi, next := total, total // no call after the last phase
		if i+1 < len(s.lo) {
			hi, next = s.hi[i], s.lo[i+1]
		}
		for n := lo; n < next; n++ {
			if len(s.got[n]) == 0 {
				t.Fatalf("%s: message %d of phase %d never arrived", s.Name, n, i)
			}
			if ev := s.got[n][0]; !fits(i, ev) && (n < hi || !fits(i+1, ev)) {
				t.Fatalf("%s: message %d of phase %d (strict below %d) made with other settings: %s", s.Name, n, i, hi, ev.AppendJSON(nil))
			}
		}
	}
	t.Logf("%s: %d messages, every one once", s.Name, total)
}

// Refused checks the error of a Reconfigure that must be refused: there is one; it is
// notReconfigurable (the source's sentinel for a setting only a new source can take)
// exactly when inPlace says so; and it names what was refused (mentions), so that an
// operator reading the log knows which setting to put back. It tells whether err passed,
// for a source with more to check.
func Refused(t testing.TB, name string, err, notReconfigurable error, inPlace bool, mentions string) bool {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: accepted", name)
	case errors.Is(err, notReconfigurable) != inPlace:
		t.Errorf("%s: errors.Is(%v) = %v: %v", name, notReconfigurable, !inPlace, err)
	case !strings.Contains(err.Error(), mentions):
		t.Errorf("%s: the error does not name %q: %v", name, mentions, err)
	default:
		t.Logf("%s: %v", name, err)
		return true
	}
	return false
}

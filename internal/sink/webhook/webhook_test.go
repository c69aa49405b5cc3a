package webhook

import (
	"context"
	"encoding/json"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// target is a real HTTP server that is down (503) until told otherwise and records the
// events it accepted.
type target struct {
	up     atomic.Bool
	status atomic.Int32 // answer when up (default 200)
	mu     sync.Mutex
	got    []string // messages, in arrival order
	posted chan struct{}
}

func newTarget(t *testing.T) (*target, *httptest.Server) {
	tg := &target{posted: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { tg.posted <- struct{}{} }()
		if !tg.up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if st := tg.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		body, _ := io.ReadAll(r.Body)
		var msg struct{ Events []struct{ Message string } }
		if err := json.Unmarshal(body, &msg); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad post: %v %q", err, body)
		}
		tg.mu.Lock()
		for _, e := range msg.Events {
			tg.got = append(tg.got, e.Message)
		}
		tg.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return tg, srv
}

func (tg *target) messages() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]string(nil), tg.got...)
}

func item(msg, level string) component.Item {
	return component.Item{Record: component.Record{Event: &event.Event{Time: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Host: "lunaA", Source: "luna-syslog", Message: msg, Level: level}}, Decision: state.Decision{}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// While the target is down the batches wait in the spool; a new sink on the same spool
// (a restart) delivers them, in order, once the target is back.
func TestSpoolSurvivesDowntimeAndRestart(t *testing.T) {
	tg, srv := newTarget(t)
	dir := t.TempDir()
	s1, err := New(Config{URL: srv.URL, SpoolDir: dir, Backoff: sink.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s1.Run(ctx) }()
	for _, m := range []string{"one", "two", "three"} {
		if err := s1.Write(ctx, []component.Item{item(m, "critical"), item("quiet "+m, "info")}); err != nil {
			t.Fatal(err)
		}
	}
	<-tg.posted // at least one attempt failed against the down target
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s1.Stats(); st.Pending != 3 || st.Delivered != 0 || st.Spooled != 3 {
		t.Fatalf("after downtime: %+v", st)
	}

	tg.up.Store(true)
	s2, err := New(Config{URL: srv.URL, SpoolDir: dir, Backoff: sink.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go s2.Run(ctx2)
	waitFor(t, "the spool to drain", func() bool { return s2.Stats().Pending == 0 })
	got := tg.messages()
	if len(got) != 3 || got[0] != "one" || got[1] != "two" || got[2] != "three" {
		t.Fatalf("delivered %v, want one two three in order (info events left out)", got)
	}
	if err := s2.Write(ctx2, []component.Item{item("four", "warning")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new batch", func() bool { return len(tg.messages()) == 4 })
	waitFor(t, "the counter", func() bool { return s2.Stats().Delivered == 4 })
}

// A batch the target refuses for good goes to the rejected folder; the next one still goes.
func TestRejectedBatchKept(t *testing.T) {
	tg, srv := newTarget(t)
	tg.up.Store(true)
	tg.status.Store(http.StatusBadRequest)
	dir := t.TempDir()
	s, err := New(Config{URL: srv.URL, SpoolDir: dir, MinLevel: "warning"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	if err := s.Write(ctx, []component.Item{item("refused", "warning")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rejection", func() bool { return s.Stats().Rejected == 1 })
	if ents, _ := (&Sink{cfg: Config{SpoolDir: dir + "/rejected"}}).pending(); len(ents) != 1 {
		t.Fatalf("rejected folder holds %d batches", len(ents))
	}
	tg.status.Store(0)
	if err := s.Write(ctx, []component.Item{item("accepted", "major")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the next batch", func() bool { return len(tg.messages()) == 1 })
}

// The clear of an alarm the webhook reports passes its level filter whatever the
// clearing event's own level; the clear of an alarm below the filter does not.
func TestClearOfWantedAlarmPasses(t *testing.T) {
	tg, srv := newTarget(t)
	tg.up.Store(true)
	s, err := New(Config{URL: srv.URL, SpoolDir: t.TempDir(), MinLevel: "major"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	clear := func(msg, alarmLevel string) component.Item {
		it := item(msg, "info")
		it.Decision = state.Decision{Change: state.Cleared, Alarm: &state.Alarm{Host: "lunaA", Key: "k", Level: alarmLevel}}
		return it
	}
	if err := s.Write(ctx, []component.Item{clear("minor alarm over", "minor"), clear("major alarm over", "major"), item("chatter", "info")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the clear", func() bool { return len(tg.messages()) == 1 })
	if m := tg.messages(); m[0] != "major alarm over" {
		t.Fatalf("got %q", m)
	}
}

// A webhook with min_level major gets the clear of every alarm whose open it got: the
// state gives the clearing event the alarm's level, whatever its rule's (a trap's
// de-assert rule is info).
func TestClearPassesMinLevelOfItsAlarm(t *testing.T) {
	tg, srv := newTarget(t)
	tg.up.Store(true)
	s, err := New(Config{URL: srv.URL, SpoolDir: t.TempDir(), MinLevel: "major"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	tr, err := state.New(state.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	open := &event.Event{Time: at, Host: "lunaA", Source: "luna-syslog", Rule: "fan", Level: "major", Assert: event.True, Message: "fan down"}
	clear := &event.Event{Time: at.Add(time.Minute), Host: "lunaA", Source: "snmp-trap", Rule: "fan", Level: "info", Assert: event.False, Message: "fan back"}
	noise := &event.Event{Time: at.Add(2 * time.Minute), Host: "lunaA", Source: "luna-syslog", Rule: "other", Level: "info", Assert: event.False, Message: "unmatched clear"}
	var items []component.Item
	for _, ev := range []*event.Event{open, clear, noise} {
		items = append(items, component.Item{Record: component.Record{Event: ev}, Decision: tr.Observe(ev)})
	}
	if clear.Level != "major" || clear.Cleared != "lunaA/fan" || noise.Cleared != "" || noise.Level != "info" {
		t.Fatalf("clear: level %q cleared %q; unmatched clear: level %q cleared %q", clear.Level, clear.Cleared, noise.Level, noise.Cleared)
	}
	if err := s.Write(ctx, items); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return s.Stats().Pending == 0 && s.Stats().Delivered > 0 })
	if got := tg.messages(); len(got) != 2 || got[0] != "fan down" || got[1] != "fan back" {
		t.Fatalf("delivered %q, want the open and its clear only", got)
	}
}

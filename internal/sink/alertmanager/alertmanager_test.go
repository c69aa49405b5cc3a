package alertmanager

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// fakeAM is a real HTTP server speaking the part of the Alertmanager API v2 we use.
type fakeAM struct {
	mu    sync.Mutex
	posts [][]Alert
	down  atomic.Bool
}

func (f *fakeAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if f.down.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	var alerts []Alert
	if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, alerts)
	f.mu.Unlock()
}

func (f *fakeAM) last() []Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posts) == 0 {
		return nil
	}
	return f.posts[len(f.posts)-1]
}

func wait(t *testing.T, what string, cond func() bool) {
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

// batchOf parses, classifies and observes real lines, as the pipeline does.
func batchOf(t *testing.T, tr *state.Tracker, cat *classify.Catalog, lines ...string) []component.Item {
	t.Helper()
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	var out []component.Item
	for _, l := range lines {
		ev := new(event.Event)
		parse.Into(p, l, ev)
		cat.Classify(ev)
		out = append(out, component.Item{Record: component.Record{Event: ev}, Decision: tr.Observe(ev)})
	}
	return out
}

func TestAlarmFiresThenResolves(t *testing.T) {
	am := &fakeAM{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := state.New(state.Config{}, cat)
	s, err := New(Config{URL: srv.URL, Resend: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	am.down.Store(true) // the first post fails; the alert must still arrive later
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted"))
	wait(t, "a failed post", func() bool { _, f := s.Counts(); return f >= 1 })
	am.down.Store(false)
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:02:30 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719"))
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:03:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)"))
	wait(t, "the firing alerts", func() bool { return len(am.last()) == 2 })
	for _, a := range am.last() {
		if !a.EndsAt.IsZero() || a.Labels["host"] != "lunaA" || a.Labels["severity"] == "" || a.Annotations["summary"] == "" {
			t.Errorf("firing alert: %+v", a)
		}
	}
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:04:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted"))
	wait(t, "the resolution", func() bool {
		for _, a := range am.last() {
			if a.Labels["alarm_key"] == "PSU2_Status" && a.EndsAt.Equal(time.Date(2026, 11, 22, 10, 4, 0, 0, time.UTC)) {
				return true
			}
		}
		return false
	})
	// The resolution was taken: the next post has the fan alone, still firing.
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:05:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Non-recoverable going low (Reading 500 < Threshold 1000 RPM)"))
	wait(t, "the fan alone", func() bool {
		l := am.last()
		return len(l) == 1 && l[0].Labels["alarm_key"] == "Fan3B" && l[0].EndsAt.IsZero()
	})
}

func TestNewRefusesBadURL(t *testing.T) {
	if _, err := New(Config{URL: "alertmanager:9093"}); err == nil {
		t.Fatal("accepted a URL without scheme")
	}
}

// A post that fails is tried again with the shared back-off, not an hour later at the
// next resend, and without a new event to wake it.
func TestFailedPostRetriedWithBackoff(t *testing.T) {
	am := &fakeAM{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := state.New(state.Config{}, cat)
	s, err := New(Config{URL: srv.URL, Resend: time.Hour, Backoff: sink.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	am.down.Store(true)
	s.Write(ctx, batchOf(t, tr, cat, "2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted"))
	wait(t, "three failed posts", func() bool { _, f := s.Counts(); return f >= 3 })
	am.down.Store(false)
	wait(t, "the alert after the target came back", func() bool { return len(am.last()) == 1 })
}

// The URL's user information and query values never reach the sink's name, its log or
// its errors; the rest of the URL does.
func TestURLSecretsRedacted(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	s, err := New(Config{URL: "http://ops:s3cret@127.0.0.1:1/?token=t0ken", Resend: time.Hour,
		Backoff: sink.Backoff{Min: time.Millisecond, Max: time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Name(); n != "alertmanager http://***@127.0.0.1:1/?token=***" {
		t.Errorf("name %q", n)
	}
	err = s.post(t.Context(), []Alert{{Labels: map[string]string{"alertname": "x"}}})
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "t0ken") ||
		!strings.Contains(err.Error(), "127.0.0.1:1/api/v2/alerts?token=***") {
		t.Errorf("post error %v", err)
	}
	s.mu.Lock()
	s.open["x"] = Alert{Labels: map[string]string{"alertname": "x"}}
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	wait(t, "a failed post logged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "post failed")
	})
	cancel()
	<-done
	if l := logs.String(); strings.Contains(l, "s3cret") || strings.Contains(l, "t0ken") {
		t.Errorf("log shows a secret: %s", l)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Alarms open before the sink started fire at once and stay in every re-send.
func TestOpenAlarmsFireAndAreResent(t *testing.T) {
	am := &fakeAM{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	s, err := New(Config{URL: srv.URL, Resend: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2012, 2, 29, 10, 0, 0, 0, time.UTC)
	s.OpenAlarms(t.Context(), []state.Alarm{{Host: "lunaA", Key: "Fan3B", Rule: "r", Level: "major", Opened: opened}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	wait(t, "three posts holding the alarm", func() bool {
		am.mu.Lock()
		defer am.mu.Unlock()
		n := 0
		for _, p := range am.posts {
			if len(p) == 1 && p[0].Labels["alarm_key"] == "Fan3B" && p[0].StartsAt.Equal(opened) && p[0].EndsAt.IsZero() {
				n++
			}
		}
		return n >= 3
	})
}

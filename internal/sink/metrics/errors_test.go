package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsmwatch/hsmwatch/internal/version"
)

// records keeps what a slog.Logger writes.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.msgs = append(h.msgs, b.String())
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }
func (h *records) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

// families scrapes r over HTTP, asserting 200, and parses the body.
func families(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(scrape(t, r)))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return mfs
}

func value(mf *dto.MetricFamily, i int) float64 {
	m := mf.GetMetric()[i]
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	return m.GetUntyped().GetValue()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Two samples of one name with different types (hsmUpTime of a Luna and of a Dinamo
// before names carried their unit), or the same type and different help: the scrape is
// served, the first kept, the second dropped and counted (on the next scrape), and the
// error logged once within the log interval.
func TestClashingSamplesNeverFailTheScrape(t *testing.T) {
	log := &records{}
	r := NewWith(Options{Logger: slog.New(log), ErrorLogInterval: time.Hour})
	r.SetSamples("dinamo", []Sample{{Name: "up", Help: "Up.", Value: 5}})
	r.SetSamples("luna", []Sample{{Name: "up", Help: "Up.", Value: 7, Counter: true}, {Name: "sessions", Help: "Sessions.", Value: 2}})
	r.SetSamples("other", []Sample{{Name: "sessions", Help: "Sessions of another kind.", Value: 3}})
	mfs := families(t, r)
	up := mfs["hsmwatch_hsm_up"]
	if up == nil || up.GetType() != dto.MetricType_GAUGE || len(up.GetMetric()) != 1 || label(up.GetMetric()[0], "host") != "dinamo" {
		t.Fatalf("hsmwatch_hsm_up: %v", up)
	}
	if s := mfs["hsmwatch_hsm_sessions"]; s == nil || len(s.GetMetric()) != 1 || label(s.GetMetric()[0], "host") != "luna" {
		t.Fatalf("hsmwatch_hsm_sessions: %v", s)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d log records after one scrape with errors, want 1: %v", n, log.msgs)
	}
	mfs = families(t, r)
	if e := mfs["hsmwatch_collector_errors_total"]; e == nil || e.GetType() != dto.MetricType_COUNTER || value(e, 0) < 2 {
		t.Errorf("collector errors after two dropped series: %v", e)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d log records after two scrapes within the interval, want 1", n)
	}
}

// failing is a collector that fails at each scrape.
type failing struct{ desc *prometheus.Desc }

func (f failing) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failing) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("injected failure"))
}

// A collector that fails, and two registered figures of one name and labels: the rest is
// served with 200 (whatever the handler's options), every error is counted, and logged
// at most once per interval.
func TestGatherErrorsCountedAndLogged(t *testing.T) {
	log := &records{}
	r := NewWith(Options{Logger: slog.New(log), ErrorLogInterval: time.Hour})
	r.reg.MustRegister(failing{prometheus.NewDesc("hsmwatch_test_failing", "Fails.", nil, nil)})
	r.Func("dup_total", "Twice.", true, nil, func() float64 { return 1 })
	r.Func("dup_total", "Twice.", true, nil, func() float64 { return 2 })
	r.Func("fine", "Fine.", false, nil, func() float64 { return 4 })
	for _, h := range []http.Handler{r.Handler(), promhttp.HandlerFor(r.Gatherer(), promhttp.HandlerOpts{})} {
		srv := httptest.NewServer(h)
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	mfs := families(t, r)
	if f := mfs["hsmwatch_fine"]; f == nil || value(f, 0) != 4 {
		t.Errorf("hsmwatch_fine: %v", f)
	}
	// Two scrapes before this one, two errors each (the failing collector, the
	// duplicate); this scrape's own are counted after it gathered.
	if e := mfs["hsmwatch_collector_errors_total"]; e == nil || value(e, 0) != 4 {
		t.Errorf("hsmwatch_collector_errors_total: %v, want 4", e)
	}
	if e := families(t, r)["hsmwatch_collector_errors_total"]; e == nil || value(e, 0) != 6 {
		t.Errorf("hsmwatch_collector_errors_total on the next scrape: %v, want 6", e)
	}
	if n := log.count(); n != 1 || !strings.Contains(log.msgs[0], "injected failure") {
		t.Errorf("log records %v, want one naming the failure", log.msgs)
	}
	r2 := NewWith(Options{Logger: slog.New(log), ErrorLogInterval: time.Nanosecond})
	r2.reg.MustRegister(failing{prometheus.NewDesc("hsmwatch_test_failing", "Fails.", nil, nil)})
	families(t, r2)
	time.Sleep(time.Millisecond) // past the nanosecond interval: the next error is logged
	families(t, r2)
	if n := log.count(); n != 3 {
		t.Errorf("%d log records, want 1 + 2 with a nanosecond interval", n)
	}
}

func TestBuildInfo(t *testing.T) {
	mfs := families(t, New())
	bi := mfs["hsmwatch_build_info"]
	if bi == nil || bi.GetType() != dto.MetricType_GAUGE || value(bi, 0) != 1 {
		t.Fatalf("hsmwatch_build_info: %v", bi)
	}
	want := version.Get()
	for l, v := range map[string]string{"version": want.Version, "revision": want.Commit, "goversion": want.GoVersion, "builddate": want.Date} {
		if got := label(bi.GetMetric()[0], l); got != v {
			t.Errorf("build_info %s = %q, want %q (as hsmwatch version says)", l, got, v)
		}
	}
}

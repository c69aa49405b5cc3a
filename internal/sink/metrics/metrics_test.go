package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d:\n%s", resp.StatusCode, b)
	}
	return string(b)
}

// Events are counted by host, component and level, open alarms follow the tracker,
// samples and registered figures appear with their labels, over real HTTP.
func TestMetricsExposition(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	var batch []component.Item
	for _, line := range []string{
		"2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted",
		"2026 Nov 22 10:03:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719",
		"2026 Nov 22 10:04:00 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719",
	} {
		ev := new(event.Event)
		parse.Into(p, line, ev)
		cat.Classify(ev)
		batch = append(batch, component.Item{Record: component.Record{Event: ev}, Decision: tr.Observe(ev)})
	}
	r := New()
	if err := (Sink{Registry: r, State: tr}).Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r.SetSamples("lunaA", []Sample{{Name: "storage_used_percent", Labels: map[string]string{"partition": "p1"}, Value: 42.5}})
	dropped := 0.0
	r.Func("pipeline_events_dropped_total", "Events dropped by the pipeline.", true, nil, func() float64 { return dropped })
	out := scrape(t, r)
	for _, want := range []string{
		`hsmwatch_events_total{component="ipmi",host="lunaA",level="critical"} 1`,
		`hsmwatch_events_total{component="lunash-commands",host="lunaA",level="info"} 2`,
		`hsmwatch_alarms_active{host="lunaA",level="critical"} 1`,
		`hsmwatch_hsm_storage_used_percent{host="lunaA",partition="p1"} 42.5`,
		`hsmwatch_pipeline_events_dropped_total 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	r.SetSamples("lunaA", nil)
	if strings.Contains(scrape(t, r), "hsmwatch_hsm_storage_used_percent") {
		t.Error("a host's samples must be replaced, not accumulated")
	}
}

// A source a reload drops takes its figures with it; the others stay.
func TestForget(t *testing.T) {
	r := New()
	r.FuncOf("file:/a", "lines_read_total", "Lines read.", true, map[string]string{"source": "file:/a"}, func() float64 { return 3 })
	r.FuncOf("file:/b", "lines_read_total", "Lines read.", true, map[string]string{"source": "file:/b"}, func() float64 { return 5 })
	r.SetSamples("luna1", []Sample{{Name: "sessions", Value: 2}})
	r.Forget("file:/a")
	r.ForgetSamples("luna1")
	out := scrape(t, r)
	if strings.Contains(out, `source="file:/a"`) || !strings.Contains(out, `hsmwatch_lines_read_total{source="file:/b"} 5`) {
		t.Fatalf("after Forget(file:/a):\n%s", out)
	}
	if strings.Contains(out, "hsmwatch_hsm_sessions") {
		t.Fatal("samples of a forgotten host still exported")
	}
}

// A figure of several series (SeriesOf) exports one series per value of its label, read
// at each scrape, and goes with its owner.
func TestSeriesOf(t *testing.T) {
	r := New()
	values := map[string]float64{"hsm1": 4, "(other)": 9}
	r.SeriesOf("syslog:udp://:514", "syslog_limited_origin_total", "Limited by origin.", true,
		map[string]string{"source": "syslog:udp://:514"}, "origin", func() map[string]float64 { return values })
	out := scrape(t, r)
	for _, want := range []string{
		`hsmwatch_syslog_limited_origin_total{origin="(other)",source="syslog:udp://:514"} 9`,
		`hsmwatch_syslog_limited_origin_total{origin="hsm1",source="syslog:udp://:514"} 4`,
		"# TYPE hsmwatch_syslog_limited_origin_total counter",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s:\n%s", want, out)
		}
	}
	values = map[string]float64{"hsm2": 1}
	if out := scrape(t, r); strings.Contains(out, `origin="hsm1"`) || !strings.Contains(out, `origin="hsm2",source="syslog:udp://:514"} 1`) {
		t.Errorf("the series are not read at each scrape:\n%s", out)
	}
	r.Forget("syslog:udp://:514")
	if strings.Contains(scrape(t, r), "syslog_limited_origin_total") {
		t.Error("a forgotten owner's series are still exported")
	}
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

func TestSamplesHistory(t *testing.T) {
	f := newFixture(t)
	var more []store.Sample
	for i := range 5 {
		more = append(more, store.Sample{Host: "luna1", Metric: "temperature", Value: 42 + float64(i),
			Time: base.Add(time.Duration(i+1) * time.Minute)})
		more = append(more, store.Sample{Host: "luna1", Metric: "sessions", Labels: map[string]string{"partition": "p1"},
			Value: float64(i), Time: base.Add(time.Duration(i+1) * time.Minute)})
	}
	if err := f.store.PutSamples(context.Background(), more); err != nil {
		t.Fatal(err)
	}
	type body struct {
		Samples   []store.Sample `json:"samples"`
		Truncated bool           `json:"truncated"`
	}
	get := func(q string) body {
		t.Helper()
		code, b := f.get(t, "/api/samples?"+q)
		if code != http.StatusOK {
			t.Fatalf("samples?%s: %d %s", q, code, b)
		}
		var bd body
		if err := json.Unmarshal(b, &bd); err != nil {
			t.Fatal(err)
		}
		return bd
	}
	all := get("host=luna1")
	if len(all.Samples) != 11 || all.Truncated {
		t.Fatalf("luna1: %d samples, truncated %v", len(all.Samples), all.Truncated)
	}
	for i := 1; i < len(all.Samples); i++ {
		if all.Samples[i].Time.Before(all.Samples[i-1].Time) {
			t.Errorf("not oldest first at %d", i)
		}
	}
	temp := get("host=luna1&metric=temperature&since=" + base.Add(2*time.Minute).Format(time.RFC3339))
	if len(temp.Samples) != 4 || temp.Samples[0].Value != 43 || temp.Samples[3].Value != 46 || temp.Samples[0].Site != "paris" {
		t.Errorf("temperature since 12:02: %+v", temp.Samples)
	}
	last := get("host=luna1&metric=sessions&limit=2")
	if len(last.Samples) != 2 || !last.Truncated || last.Samples[1].Value != 4 || last.Samples[1].Labels["partition"] != "p1" {
		t.Errorf("last 2 sessions: %+v", last)
	}
	if none := get("host=nobody"); none.Samples == nil || len(none.Samples) != 0 {
		t.Errorf("unknown host must give [], got %+v", none)
	}
	for _, tc := range []struct{ q, param string }{
		{"", "host"},
		{"metric=temperature", "host"},
		{"host=luna1&limit=0", "limit"},
		{"host=luna1&limit=50001", "limit"},
		{"host=luna1&since=soon", "since"},
		{"host=luna1&since=1h&until=2h", "until"},
		{"host=luna1&level=critical", "level"},
	} {
		code, b := f.get(t, "/api/samples?"+tc.q)
		var e struct{ Error string }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if code != http.StatusBadRequest || !strings.HasPrefix(e.Error, tc.param+":") {
			t.Errorf("samples?%s: %d %q, want 400 naming %q", tc.q, code, e.Error, tc.param)
		}
	}
}

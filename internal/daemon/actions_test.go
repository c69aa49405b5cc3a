package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink/alertmanager"
	"github.com/hsmwatch/hsmwatch/internal/sink/webhook"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// alertLog is an Alertmanager endpoint that keeps every alert posted.
type alertLog struct {
	mu     sync.Mutex
	alerts []alertmanager.Alert
}

func (a *alertLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []alertmanager.Alert
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.alerts = append(a.alerts, body...)
	a.mu.Unlock()
}

func (a *alertLog) has(cond func(alertmanager.Alert) bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, al := range a.alerts {
		if cond(al) {
			return true
		}
	}
	return false
}

// call makes an API request as alice and decodes a 2xx answer into v.
func call(t *testing.T, method, url, body string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hsmwatch-Actor", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// TestOperatorActions runs a daemon with a webhook and an Alertmanager: an event under
// a silence is stored and counted but reaches neither; an acknowledged alarm's alert is
// labelled acknowledged="true"; an alarm closed by hand is resolved at the Alertmanager
// and closed in the tracker, so that the next assert opens a new alarm.
func TestOperatorActions(t *testing.T) {
	hook := &webhookCounter{seen: map[string]int{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	am := &alertLog{}
	amSrv := httptest.NewServer(am)
	defer amSrv.Close()

	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}}),
		Sinks: sinks(t, config.Item{Kind: "webhooks", Spec: &webhook.Spec{URL: hookSrv.URL, MinLevel: "debug"}},
			config.Item{Kind: "alertmanager", Spec: &alertmanager.Spec{URL: amSrv.URL}})}
	d, stop := runDaemon(t, Options{Config: cfg})
	base := "http://" + d.Addr().String()
	appendTo := func(lines ...string) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			fmt.Fprintln(f, l)
		}
		f.Close()
	}
	stored := func(host string) int {
		p, err := d.Store().Events(context.Background(), store.EventFilter{Host: host, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Events)
	}

	// A silence of lunaS: its fan alarm is stored, counted, and kept from both sinks; the
	// line of lunaA after it goes through (the sinks get batches in order, so once lunaA's
	// event is there, lunaS's would have been before it).
	var si store.Silence
	call(t, "POST", base+"/api/silences", `{"host":"lunas","duration":"1h","comment":"fan swap"}`, &si)
	const silenced = "Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)"
	const psu = "Power Supply sensor PSU2_Status . - Failure detected Asserted"
	appendTo("2026 Nov 22 10:01:00 lunaS local4 notice ipmievd: "+silenced,
		"2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: "+psu)
	testutil.WaitFor(t, "lunaA's event at the webhook and its alert", 20*time.Second, func() bool {
		return hook.counts()[psu] == 1 && am.has(func(a alertmanager.Alert) bool { return a.Labels["host"] == "lunaA" })
	})
	if n := hook.counts()[silenced]; n != 0 {
		t.Errorf("the silenced event reached the webhook %d times", n)
	}
	if am.has(func(a alertmanager.Alert) bool { return a.Labels["host"] == "lunaS" }) {
		t.Error("the silenced alarm reached the Alertmanager")
	}
	if n := stored("lunaS"); n != 1 {
		t.Errorf("%d events of lunaS stored, want 1", n)
	}
	if st := d.Stats(); st.Silenced != 1 {
		t.Errorf("silenced %d, want 1", st.Silenced)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if v := metricValue(t, string(body), "hsmwatch_events_silenced_total"); v != 1 {
		t.Errorf("hsmwatch_events_silenced_total %v, want 1", v)
	}
	var l struct{ Alarms []store.Alarm }
	call(t, "GET", base+"/api/alarms?state=silenced", "", &l)
	if len(l.Alarms) != 1 || l.Alarms[0].Host != "lunaS" {
		t.Errorf("silenced alarms: %+v", l.Alarms)
	}

	// Acknowledge lunaA's alarm: its alert is labelled.
	call(t, "GET", base+"/api/alarms?host=lunaA", "", &l)
	if len(l.Alarms) != 1 {
		t.Fatalf("lunaA's alarms: %+v", l.Alarms)
	}
	id := l.Alarms[0].ID
	var al store.Alarm
	call(t, "POST", fmt.Sprintf("%s/api/alarms/%d/ack", base, id), `{"comment":"on it"}`, &al)
	if al.Acknowledged == nil || al.Acknowledged.By != "alice" {
		t.Fatalf("ack: %+v", al)
	}
	testutil.WaitFor(t, "the acknowledged alert", 20*time.Second, func() bool {
		return am.has(func(a alertmanager.Alert) bool {
			return a.Labels["host"] == "lunaA" && a.Labels["acknowledged"] == "true" && a.EndsAt.IsZero()
		})
	})

	// Close it by hand: resolved at the Alertmanager; the next assert opens a new alarm.
	call(t, "POST", fmt.Sprintf("%s/api/alarms/%d/close", base, id), `{"comment":"the deassert trap was lost"}`, &al)
	if al.Closed == nil || al.ClearedBy != store.ClearedByOperator {
		t.Fatalf("close: %+v", al)
	}
	testutil.WaitFor(t, "the resolved alert", 20*time.Second, func() bool {
		return am.has(func(a alertmanager.Alert) bool {
			return a.Labels["host"] == "lunaA" && a.Labels["alarm_key"] == "PSU2_Status" && !a.EndsAt.IsZero()
		})
	})
	appendTo("2026 Nov 22 10:09:00 lunaA local4 notice ipmievd: " + psu)
	testutil.WaitFor(t, "a new alarm of lunaA", 20*time.Second, func() bool {
		var l struct{ Alarms []store.Alarm }
		call(t, "GET", base+"/api/alarms?host=lunaA", "", &l)
		return len(l.Alarms) == 1 && l.Alarms[0].ID != id && l.Alarms[0].Acknowledged == nil
	})
	if n := stored("lunaA"); n != 4 { // assert, acknowledged, closed, assert
		t.Errorf("%d events of lunaA stored, want 4", n)
	}
	stop()
}

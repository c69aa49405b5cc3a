package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// TestDemoHistoryAndCycle starts the demo with a day of history and checks what the
// dashboard reads from its first page: samples of every HSM over the whole day, events
// over the day in time order, and for each scenario of the cycle (played 48 times on the
// simulator's clock) its alarms opened and cleared, by the clear the catalog names or by
// the demo operator. Then the fleet goes on live (the next cycle's first step comes a few
// seconds later) and the SoftHSM2 token is probed.
func TestDemoHistoryAndCycle(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	m, err := NewDemo(ctx, DemoOptions{History: 24 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	base := "http://" + m.Daemon.Addr().String()
	// The API answers once the history is in (the prelude runs before the HTTP server).
	waitUntil(t, 120*time.Second, "the API", func() bool {
		resp, err := http.Get(base + "/api/hsms")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	st := m.Daemon.Store()
	end := m.end.Add(time.Second) // the replayed past's end
	day := m.end.Add(-24 * time.Hour)
	for _, host := range []string{"luna-demo-1", "luna-demo-2", demoDinamoSerial} {
		first, err := st.Samples(ctx, store.SampleFilter{Host: host, Since: day.Add(-time.Minute), Until: day.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		last, err := st.Samples(ctx, store.SampleFilter{Host: host, Since: end.Add(-time.Hour), Until: end})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Samples) == 0 || len(last.Samples) == 0 {
			t.Errorf("%s: %d samples in the day's first hour, %d in its last; want both", host, len(first.Samples), len(last.Samples))
		}
	}
	// Events: over the whole day, every one in the past, in time order.
	var hist []store.StoredEvent
	f := store.EventFilter{Limit: store.MaxLimit, Until: end}
	for {
		page, err := st.Events(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if strings.HasPrefix(e.Event.Input, historyInput) {
				hist = append(hist, e)
			}
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if len(hist) < 1000 {
		t.Fatalf("%d history events, want a day's worth", len(hist))
	}
	oldest, newest := hist[len(hist)-1].Event.Time, hist[0].Event.Time
	if oldest.After(day.Add(30*time.Minute)) || oldest.Before(day.Add(-time.Minute)) || newest.After(end) || newest.Before(end.Add(-40*time.Minute)) {
		t.Errorf("history events from %s to %s, want the day before %s", oldest, newest, end)
	}
	for i := 1; i < len(hist); i++ { // newest first: ids and times fall together
		if hist[i].Event.Time.After(hist[i-1].Event.Time) {
			t.Fatalf("event %d (%s) stored after event %d (%s): out of time order", hist[i-1].ID, hist[i-1].Event.Time, hist[i].ID, hist[i].Event.Time)
		}
	}
	// Alarms: every scenario's, opened and cleared, 48 cycles of them.
	all, err := st.Alarms(ctx, store.AlarmFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ host, rule, clearedBy string }
	wants := map[want]int{
		{"luna-demo-1", "luna.ipmi.fan-lc-going-low", "luna.ipmi.fan-lnr-going-low"}:                    0, // fan failure
		{"luna-demo-1", "luna.ipmi.psu-discrete-state", "luna.ipmi.psu-discrete-state"}:                 0, // power supply
		{"luna-demo-1", "luna.ntls.ntls-crash-and-burn-stack-dump-saved-trap", store.ClearedByOperator}: 0, // NTLS crash
		{"luna-demo-1", "snmppoll.ntls-status.critical", "snmppoll.ntls-status"}:                        0,
		{"luna-demo-2", "luna.pcie.alm2010", "luna.pcie.alm2011"}:                                       0, // tamper lock and clear: the ALM pair
		{"luna-demo-2", "luna.pcie.alm2001", "luna.pcie.alm2002"}:                                       0,
		{"luna-demo-2", "luna.pcie.alm2007", store.ClearedByOperator}:                                   0, // zeroized
		{"luna-demo-2", "snmppoll.partition-storage.critical", "snmppoll.partition-storage"}:            0, // token filling up
		{demoDinamoSerial, "snmppoll.battery.critical", "snmppoll.battery"}:                             0, // battery
	}
	for _, a := range all {
		if a.Cleared.IsZero() || a.Opened.Before(day.Add(-time.Minute)) || !a.Cleared.Before(end) {
			continue
		}
		w := want{a.Host, a.Rule, a.ClearedBy}
		if _, ok := wants[w]; ok {
			wants[w]++
		}
	}
	for w, n := range wants {
		if n < 40 {
			t.Errorf("%s %s cleared by %s: %d times in the day, want one a cycle (48)", w.host, w.rule, w.clearedBy, n)
		}
	}
	// The Dinamo's key export and log truncation: events (the catalog makes no alarm of
	// them), and the truncation in the tracker's log integrity findings.
	for _, rule := range []string{"dinamo.trap.private-key-exported", "dinamo.log-truncated"} {
		n := 0
		for _, e := range hist {
			if e.Event.Rule == rule && e.Event.Host == demoDinamoSerial {
				n++
			}
		}
		if n < 40 {
			t.Errorf("%d %s events of %s, want one a cycle", n, rule, demoDinamoSerial)
		}
	}
	// Live: the next cycle's first step (luna-demo-1's fan) a few seconds after the
	// history ends, through the daemon's syslog and trap sockets.
	var recent []store.Alarm
	waitUntil(t, 90*time.Second, "a live fan alarm", func() bool {
		var err error
		recent, err = st.Alarms(ctx, store.AlarmFilter{Host: "luna-demo-1", Limit: 20})
		if err != nil {
			return false
		}
		for _, a := range recent {
			// the line's key: its trap, when read first, joins it under that key
			if a.Key == "Fan1A" && a.Opened.After(start) && !strings.HasPrefix(a.Input, historyInput) {
				return true
			}
		}
		return false
	}, func() string {
		var b strings.Builder
		for _, a := range recent {
			fmt.Fprintf(&b, "\n%s %s %s opened %s cleared %s input %q", a.Host, a.Key, a.Rule, a.Opened, a.Cleared, a.Input)
		}
		return b.String()
	})
	if m.Token == "" {
		p11test.Missing(t, "no SoftHSM2 token in the demo (apt-get install softhsm2)")
	}
	waitUntil(t, 90*time.Second, "the SoftHSM2 token's figures", func() bool {
		page, err := st.Samples(ctx, store.SampleFilter{Host: demoTokenLabel, Since: start.Add(-time.Minute)})
		return err == nil && len(page.Samples) > 0
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not stop")
	}
	if _, err := os.Stat(m.dir); err == nil {
		t.Errorf("the demo's folder %s is still there", m.dir)
	}
}

// TestDemoWithoutSoftHSM: no library, no token, and the demo goes on.
func TestDemoWithoutSoftHSM(t *testing.T) {
	ctx := t.Context()
	var logs strings.Builder
	m, err := NewDemo(ctx, DemoOptions{History: -1, SoftHSM: "/nonexistent/libsofthsm2.so", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(m.dir)
	defer m.Daemon.Close()
	defer m.fleet.Close()
	if m.Token != "" || !strings.Contains(logs.String(), "no PKCS#11 token in the fleet") || strings.Count(logs.String(), "PKCS#11") != 1 {
		t.Errorf("token %q, log:\n%s", m.Token, logs.String())
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool, context ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			var more []string
			for _, c := range context {
				more = append(more, c())
			}
			t.Fatalf("no %s within %s %s", what, d, strings.Join(more, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

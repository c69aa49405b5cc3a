package daemon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/sink/alertmanager"
	"github.com/hsmwatch/hsmwatch/internal/sink/forward"
	"github.com/hsmwatch/hsmwatch/internal/sink/webhook"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// A power supply that fails and recovers reaches a real Alertmanager endpoint as a firing
// then resolved alert, and a TCP syslog collector as RFC 5424 messages.
func TestAlertmanagerAndSyslogSinks(t *testing.T) {
	alerts := make(chan []map[string]any, 20)
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []map[string]any
		if r.URL.Path != "/api/v2/alerts" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		alerts <- body
	}))
	defer am.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msgs := make(chan string, 20)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := bufio.NewScanner(c)
		sc.Split(bufio.ScanWords) // frames are "LEN <PRI>1 ...": the PRI token marks one
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "<") {
				msgs <- sc.Text()
			}
		}
	}()

	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}}),
		Sinks: sinks(t, config.Item{Kind: "alertmanager", Spec: &alertmanager.Spec{URL: am.URL}},
			config.Item{Kind: "syslog", Spec: &forward.Spec{Address: "tcp://" + ln.Addr().String()}})}
	_, stop := runDaemon(t, Options{Config: cfg})
	appendTo := func(line string) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(line + "\n")
		f.Close()
	}
	appendTo("2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted")
	waitAlert := func(resolved bool) {
		deadline := time.After(20 * time.Second)
		for {
			select {
			case body := <-alerts:
				for _, a := range body {
					labels, _ := a["labels"].(map[string]any)
					_, hasEnd := a["endsAt"]
					if labels["alarm_key"] == "PSU2_Status" && labels["host"] == "lunaA" && hasEnd == resolved {
						return
					}
				}
			case <-deadline:
				t.Fatalf("no alert with resolved=%v", resolved)
			}
		}
	}
	waitAlert(false)
	appendTo("2026 Nov 22 10:04:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted")
	waitAlert(true)
	select {
	case m := <-msgs:
		if !strings.HasPrefix(m, "<162>1") {
			t.Errorf("syslog message %q", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no syslog message forwarded")
	}
	stop()
}

// A syslog-forwarding target that accepts TLS connections and never answers (the
// handshake hangs) holds up neither the pipeline nor the webhook beside it: every line
// is stored and posted promptly, the stuck sink's events are counted as queued or
// dropped, and the daemon still stops within its bounds.
func TestDeadSinkHoldsUpNothing(t *testing.T) {
	black, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := black.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	hook := &webhookCounter{seen: map[string]int{}}
	target := httptest.NewServer(hook)
	defer target.Close()

	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	const n = 300
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "2026 Nov 22 10:%02d:%02d lunaA local4 err ipmievd: Fan sensor Fan%d . - Lower Non-recoverable going low Asserted seq=%d\n", i/60, i%60, i, i)
	}
	if err := os.WriteFile(logFile, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		State:   state.Config{StormLimit: -1, DedupWindow: -1},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}}),
		Sinks: sinks(t, config.Item{Kind: "syslog", Spec: &forward.Spec{Address: "tls://" + black.Addr().String()}},
			config.Item{Kind: "webhooks", Spec: &webhook.Spec{URL: target.URL, MinLevel: "debug"}})}
	d, stop := runDaemon(t, Options{Config: cfg, Queue: sink.QueueOptions{MaxEvents: 100}})
	testutil.WaitFor(t, "every line posted to the webhook", 20*time.Second, func() bool { return len(hook.counts()) == n })
	// The pipeline counts a batch as processed once every sink has taken it, which can
	// be just after the webhook has posted it.
	testutil.WaitFor(t, "every line counted as processed", 5*time.Second, func() bool { return d.Stats().Processed == n })
	body := scrapeMetrics(t, d)
	depth := metricValue(t, body, `hsmwatch_sink_queue_depth{sink="syslog tls://`+black.Addr().String()+`"}`)
	dropped := metricValue(t, body, `hsmwatch_sink_dropped_total{sink="syslog tls://`+black.Addr().String()+`"}`)
	if dropped == 0 || depth > 100 {
		t.Errorf("stuck sink: depth %v (max 100), dropped %v (want > 0)", depth, dropped)
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > SinkDrainTimeout+10*time.Second {
		t.Errorf("stop took %v", d)
	}
}

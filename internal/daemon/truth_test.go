package daemon

import (
	"encoding/json"
	"net"
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
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// receiver is a real HTTP endpoint that records what it was posted: Alertmanager's
// alerts, or a webhook's documents.
type receiver struct {
	mu    sync.Mutex
	posts []json.RawMessage
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body json.RawMessage
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.posts = append(r.posts, body)
	r.mu.Unlock()
}

func (r *receiver) all() []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]json.RawMessage(nil), r.posts...)
}

type amAlert struct {
	Labels map[string]string `json:"labels"`
	EndsAt *time.Time        `json:"endsAt"`
}

// firing and resolved report whether some post held the alert of key on host in that
// state.
func (r *receiver) alert(host, key string, resolved bool) bool {
	for _, p := range r.all() {
		var as []amAlert
		if json.Unmarshal(p, &as) != nil {
			continue
		}
		for _, a := range as {
			if a.Labels["host"] == host && a.Labels["alarm_key"] == key && (a.EndsAt != nil) == resolved {
				return true
			}
		}
	}
	return false
}

type hookDoc struct {
	Events []struct {
		Host    string `json:"host"`
		Message string `json:"message"`
	} `json:"events"`
	OpenAlarms []struct {
		Host string `json:"host"`
		Key  string `json:"key"`
	} `json:"open_alarms"`
}

func (r *receiver) docs() []hookDoc {
	var out []hookDoc
	for _, p := range r.all() {
		var d hookDoc
		if json.Unmarshal(p, &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

// TestOpenAlarmsReachSinksAfterRestart: an alarm opened while no output was configured
// stays open across a restart (restored from the store); the Alertmanager and the webhook
// configured at the restart are told of it, an Alertmanager a reload adds learns of it
// too, and its clear resolves it everywhere.
func TestOpenAlarmsReachSinksAfterRestart(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}})}

	// First run: no output; the alarm opens and is stored.
	first := base
	d, stop := runDaemon(t, Options{Config: &first})
	appendLine(t, logFile, "2012 Feb 29 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted")
	testutil.WaitFor(t, "the alarm stored", 20*time.Second, func() bool {
		as, err := d.Store().Alarms(t.Context(), store.AlarmFilter{Open: true})
		return err == nil && len(as) == 1
	})
	stop()

	// Second run: an Alertmanager and a webhook; the file is read no further than its
	// checkpoint, so only the store knows of the alarm.
	am, hook, am2 := &receiver{}, &receiver{}, &receiver{}
	amSrv, hookSrv, am2Srv := httptest.NewServer(am), httptest.NewServer(hook), httptest.NewServer(am2)
	defer amSrv.Close()
	defer hookSrv.Close()
	defer am2Srv.Close()
	second := base
	second.Sinks = sinks(t, config.Item{Kind: "alertmanager", Spec: &alertmanager.Spec{URL: amSrv.URL}},
		config.Item{Kind: "webhooks", Spec: &webhook.Spec{URL: hookSrv.URL, MinLevel: "major"}})
	third := second
	third.Sinks = sinks(t, config.Item{Kind: "alertmanager", Spec: &alertmanager.Spec{URL: amSrv.URL}},
		config.Item{Kind: "webhooks", Spec: &webhook.Spec{URL: hookSrv.URL, MinLevel: "major"}},
		config.Item{Kind: "alertmanager", Spec: &alertmanager.Spec{URL: am2Srv.URL}})
	d, stop = runDaemon(t, Options{Config: &second, Load: func() (*config.Config, error) { return &third, nil }})
	defer stop()
	testutil.WaitFor(t, "the Alertmanager to fire the alarm opened before the restart", 20*time.Second, func() bool {
		return am.alert("lunaA", "PSU2_Status", false)
	})
	testutil.WaitFor(t, "the webhook to get the open alarms", 20*time.Second, func() bool {
		for _, doc := range hook.docs() {
			for _, a := range doc.OpenAlarms {
				if a.Host == "lunaA" && a.Key == "PSU2_Status" {
					return true
				}
			}
		}
		return false
	})
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the Alertmanager a reload added to fire it", 20*time.Second, func() bool {
		return am2.alert("lunaA", "PSU2_Status", false)
	})
	appendLine(t, logFile, "2012 Feb 29 10:04:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted")
	for _, r := range []*receiver{am, am2} {
		testutil.WaitFor(t, "the resolution", 20*time.Second, func() bool { return r.alert("lunaA", "PSU2_Status", true) })
	}
	testutil.WaitFor(t, "the clear at the webhook", 20*time.Second, func() bool {
		for _, doc := range hook.docs() {
			for _, e := range doc.Events {
				if e.Host == "lunaA" && strings.Contains(e.Message, "Deasserted") {
					return true
				}
			}
		}
		return false
	})
	testutil.WaitFor(t, "the alarm closed in the store", 20*time.Second, func() bool {
		as, err := d.Store().Alarms(t.Context(), store.AlarmFilter{Open: true})
		return err == nil && len(as) == 0
	})
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// TestReloadKeepsListenerWhenNewPortInUse: a reload that moves the syslog listener to a
// port in use fails for that entry and keeps the running listener, which still receives.
func TestReloadKeepsListenerWhenNewPortInUse(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	first := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "syslog", Spec: &syslog.Spec{Listen: "udp://127.0.0.1:0"}})}
	next := *first
	next.Sources = sources(t, config.Item{Kind: "syslog", Spec: &syslog.Spec{Listen: "udp://" + busy.LocalAddr().String()}})
	d, stop := runDaemon(t, Options{Config: first, Load: func() (*config.Config, error) { return &next, nil }})
	defer stop()
	waitServing(t, d)
	if err := d.Reload(); err == nil || !strings.Contains(err.Error(), "kept running") {
		t.Fatalf("reload onto a port in use: %v", err)
	}
	addrs := d.Addrs("syslog")
	if len(addrs) != 1 {
		t.Fatalf("listeners after the reload: %v", addrs)
	}
	c, err := net.Dial("udp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testutil.WaitFor(t, "the kept listener to store a line", 20*time.Second, func() bool {
		_, _ = c.Write([]byte("<134>Feb 29 12:05:01 myLuna NTLS[1]: still-listening"))
		p, err := d.Store().Events(t.Context(), store.EventFilter{Text: "still-listening"})
		return err == nil && len(p.Events) > 0
	})
}

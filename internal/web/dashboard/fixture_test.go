package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/web/api"
	"github.com/hsmwatch/hsmwatch/internal/web/dashboard"
	"github.com/hsmwatch/hsmwatch/internal/web/guard"
	"github.com/hsmwatch/hsmwatch/internal/web/live"
)

// daemon is what "hsmwatch serve" puts behind its web server: a real SQLite store filled
// the way the pipeline fills it (parse, classify, state, store, then the live hub), the
// JSON API, the live stream and the dashboard, mounted as the package documentation says.
type daemon struct {
	srv     *httptest.Server // nil when secured
	url     string           // where it serves
	store   store.Store
	hub     *live.Hub
	catalog *classify.Catalog
	tracker *state.Tracker
	parser  parse.Parser
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	return startDaemonWith(t, nil)
}

// secured is how "hsmwatch serve" serves with http.web_config_file set: behind the guard
// (roles, CSRF, Origin, Host) and exporter-toolkit (basic auth users, bcrypt hashes).
type secured struct {
	webConfigFile string
	roles         map[string]string
}

func startDaemonWith(t *testing.T, sec *secured) *daemon {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, t.TempDir(), store.Options{Site: "paris", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := state.New(state.Config{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	// The example's syslog lines without a year are from February 2012 (Feb 29).
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{store: st, catalog: cat, tracker: tr, parser: p,
		hub: live.New(live.Options{Site: "paris", Logger: logger})}

	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		d.hub.Run(hubCtx)
	}()
	dash, err := dashboard.New(dashboard.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/stream", d.hub)
	mux.Handle("/api/", api.New(st, api.Options{Rules: cat, Logger: logger, Actions: st}))
	mux.Handle("/", dash)
	var closeSrv func()
	if sec == nil {
		// As the daemon serves without a web configuration file: behind the guard,
		// without authentication.
		d.srv = httptest.NewUnstartedServer(nil)
		g, err := guard.New(mux, guard.Options{Listen: d.srv.Listener.Addr(), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		d.srv.Config.Handler = g
		d.srv.Start()
		d.url, closeSrv = d.srv.URL, d.srv.Close
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		g, err := guard.New(mux, guard.Options{Listen: ln.Addr(), Auth: true, Roles: sec.roles, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
		served := make(chan struct{})
		go func() {
			defer close(served)
			web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &sec.webConfigFile}, logger)
		}()
		d.url = "http://" + ln.Addr().String()
		closeSrv = func() {
			srv.Close()
			<-served
		}
	}
	t.Cleanup(func() {
		stopHub() // the streams end first: they never go idle
		<-hubDone
		closeSrv()
		st.Close()
	})
	return d
}

// readLines reads the example fleet log of the repository.
func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// ingest runs lines through the pipeline's stages and hands the batch to the store (the
// durable sink) and then to the live hub, as pipeline.flush does.
func (d *daemon) ingest(t *testing.T, input string, lines ...string) []component.Item {
	t.Helper()
	var batch []component.Item
	var recs []component.Record
	var alarms []state.Alarm
	for i, line := range lines {
		ev := &event.Event{}
		parse.Into(d.parser, line, ev)
		ev.Input = fmt.Sprintf("%s:%d", input, i+1)
		if ev.Source != event.SourceUnparsed {
			d.catalog.Classify(ev)
		}
		dec := d.tracker.Observe(ev)
		rec := component.Record{Event: ev, Key: ev.Input}
		batch = append(batch, component.Item{Record: rec, Decision: dec})
		recs = append(recs, rec)
		alarms = append(alarms, changedAlarms(dec)...)
	}
	ctx := context.Background()
	if _, err := d.store.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := d.store.PutAlarms(ctx, alarms); err != nil {
		t.Fatal(err)
	}
	if err := d.hub.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return batch
}

// changedAlarms lists the alarms a decision changed.
func changedAlarms(d state.Decision) []state.Alarm {
	out := append([]state.Alarm(nil), d.Matured...)
	switch d.Change {
	case state.Opened, state.Repeated, state.Cleared, state.ClearHeld:
		out = append(out, *d.Alarm)
	}
	return append(out, d.AlsoCleared...)
}

// putSamples stores six hours of polls, every five minutes up to now, for the hosts, as
// the poller stores a Luna appliance's: memory and HSM storage in percent with the
// poller's verdict, NTLS clients and status, two temperatures, and the raw memory
// figures (millions of kilobytes: the widest labels of a chart's value axis).
func (d *daemon) putSamples(t *testing.T, hosts ...string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Minute)
	var samples []store.Sample
	for hi, host := range hosts {
		for i := range 72 {
			at := now.Add(-time.Duration(71-i) * 5 * time.Minute)
			x := float64(i)/6 + float64(hi)
			samples = append(samples,
				store.Sample{Host: host, Metric: "health_memory_used", Value: 55 + 15*math.Sin(x), Time: at},
				store.Sample{Host: host, Metric: "health_hsm_storage_used", Labels: map[string]string{"instance": "122467"}, Value: 37.5 + float64(i)/10, Time: at},
				store.Sample{Host: host, Metric: "hsmStorageAllocatedBytes", Labels: map[string]string{"index": "122467"}, Value: float64(200<<20 + i*(512<<10)), Time: at},
				store.Sample{Host: host, Metric: "health_ntls_clients", Value: float64(10 + (i*7)%23), Time: at},
				store.Sample{Host: host, Metric: "health_ntls_status", Value: 1, Time: at},
				store.Sample{Host: host, Metric: "hsmManuallyZeroized", Labels: map[string]string{"index": "122467"}, Value: 2, Time: at},
				store.Sample{Host: host, Metric: "memAvailReal", Value: 11188932.5 + 40000*math.Cos(x), Time: at},
				store.Sample{Host: host, Metric: "temperature", Labels: map[string]string{"sensor": "cpu"}, Value: 48 + 6*math.Cos(x), Time: at},
				store.Sample{Host: host, Metric: "temperature", Labels: map[string]string{"sensor": "psu"}, Value: 36 + 2*math.Sin(x/2), Time: at},
				store.Sample{Host: host, Metric: "health_state", Labels: map[string]string{"item": "memory_used"}, Value: 0, Time: at},
			)
		}
	}
	if err := d.store.PutSamples(context.Background(), samples); err != nil {
		t.Fatal(err)
	}
}

// putDinamoAndTokens stores an hour of polls of a Dinamo HSM (dinamo1) and of two
// PKCS#11 slots of one SoftHSM2 library: a token in use (tok1) and an uninitialised slot,
// named by the probe after the library and the slot.
func (d *daemon) putDinamoAndTokens(t *testing.T) {
	t.Helper()
	const lib = "/usr/lib/softhsm/libsofthsm2.so"
	now := time.Now().UTC().Truncate(time.Minute)
	tok := map[string]string{"library": lib, "slot": "1", "serial": "8e3f0c1a"}
	spare := map[string]string{"library": lib, "slot": "2", "serial": ""}
	var samples []store.Sample
	for i := range 12 {
		at := now.Add(-time.Duration(11-i) * 5 * time.Minute)
		samples = append(samples,
			store.Sample{Host: "dinamo1", Metric: "health_memory_used", Value: 40 + float64(i), Time: at},
			store.Sample{Host: "dinamo1", Metric: "health_disk_used", Value: 17, Time: at},
			store.Sample{Host: "dinamo1", Metric: "health_battery", Value: 92 - float64(i), Time: at},
			store.Sample{Host: "dinamo1", Metric: "health_sessions", Value: float64(i % 4), Time: at},
			store.Sample{Host: "dinamo1", Metric: "health_tamper", Value: 0, Time: at},
			store.Sample{Host: "tok1", Metric: "pkcs11_token_status", Labels: tok, Value: 0, Time: at},
			store.Sample{Host: "tok1", Metric: "pkcs11_private_memory_used_percent", Labels: tok, Value: 20 + float64(i), Time: at},
			store.Sample{Host: "tok1", Metric: "pkcs11_sessions", Labels: tok, Value: float64(i % 3), Time: at},
			store.Sample{Host: "tok1", Metric: "pkcs11_rw_sessions", Labels: tok, Value: 0, Time: at},
			store.Sample{Host: lib + ":slot2", Metric: "pkcs11_token_status", Labels: spare, Value: 0, Time: at},
			store.Sample{Host: lib + ":slot2", Metric: "pkcs11_max_rw_sessions", Labels: spare, Value: 0, Time: at},
		)
	}
	if err := d.store.PutSamples(context.Background(), samples); err != nil {
		t.Fatal(err)
	}
}

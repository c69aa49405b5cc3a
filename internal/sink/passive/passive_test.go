package passive

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

const (
	psuFail  = "2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted"
	psuClear = "2026 Nov 22 10:04:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted"
	fanLow   = "2026 Nov 22 10:03:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)"
)

// fleet parses, classifies and observes real lines, as the pipeline does.
type fleet struct {
	t   *testing.T
	cat *classify.Catalog
	tr  *state.Tracker
}

func newFleet(t *testing.T) *fleet {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := state.New(state.Config{}, cat)
	return &fleet{t: t, cat: cat, tr: tr}
}

func (f *fleet) batch(lines ...string) []component.Item {
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	var out []component.Item
	for _, l := range lines {
		ev := new(event.Event)
		parse.Into(p, l, ev)
		f.cat.Classify(ev)
		out = append(out, component.Item{Record: component.Record{Event: ev}, Decision: f.tr.Observe(ev)})
	}
	return out
}

// wantStatus is the plugin state the package documents for an alarm level.
func wantStatus(t *testing.T, level string) int {
	switch level {
	case "critical", "major":
		return 2
	case "minor", "warning":
		return 1
	}
	t.Fatalf("an alarm at level %q", level)
	return -1
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeIcinga is an HTTPS server checking what the Icinga 2 API checks of a
// process-check-result call.
type fakeIcinga struct {
	t       *testing.T
	mu      sync.Mutex
	got     []icingaResult
	known   map[string]bool // host!service that exist
	badAuth int
}

func (f *fakeIcinga) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/actions/process-check-result" || r.Header.Get("Accept") != "application/json" {
		http.Error(w, `{"error":404,"status":"no such endpoint"}`, http.StatusNotFound)
		f.t.Errorf("request %s %s Accept=%q", r.Method, r.URL.Path, r.Header.Get("Accept"))
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "hsmwatch" || p != "s3cret pass" {
		f.mu.Lock()
		f.badAuth++
		f.mu.Unlock()
		http.Error(w, `{"error":401,"status":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	var res icingaResult
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		f.t.Errorf("body: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if res.Type != "Service" || res.Filter != "host.name==hsmwatch_host && service.name==hsmwatch_service" || res.CheckSource != "hsmwatch" {
		f.t.Errorf("result: %+v", res)
	}
	name := res.FilterVars["hsmwatch_host"] + "!" + res.FilterVars["hsmwatch_service"]
	if !f.known[name] {
		http.Error(w, `{"error":404,"status":"No objects found."}`, http.StatusNotFound)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, res)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"results":[{"code":200.0,"status":"Successfully processed check result for object '` + name + `'."}]}`))
}

func (f *fakeIcinga) results() []icingaResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]icingaResult(nil), f.got...)
}

// startIcinga runs the fake over TLS and writes its certificate as the CA file.
func startIcinga(t *testing.T) (*fakeIcinga, *httptest.Server, string) {
	f := &fakeIcinga{t: t, known: map[string]bool{"lunaA!hsmwatch": true}}
	srv := httptest.NewUnstartedServer(f)
	// The refused-CA test makes the server log a handshake error: expected, kept quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, srv, ca
}

func TestIcingaPassiveResults(t *testing.T) {
	fake, srv, ca := startIcinga(t)
	s, err := NewIcinga(IcingaConfig{URL: srv.URL, User: "hsmwatch", Password: "s3cret pass", CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t)
	ctx := context.Background()

	b := f.batch(psuFail)
	if b[0].Decision.Alarm == nil {
		t.Fatalf("the PSU failure opens no alarm: %+v", b[0].Decision)
	}
	psuLevel, psuRule := b[0].Decision.Alarm.Level, b[0].Decision.Alarm.Rule
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	got := fake.results()
	if len(got) != 1 {
		t.Fatalf("%d results after one alarm: %+v", len(got), got)
	}
	r := got[0]
	if r.ExitStatus != wantStatus(t, psuLevel) || !strings.Contains(r.Output, "1 open alarm on lunaA:") ||
		!strings.Contains(r.Output, "["+psuLevel+"]") || r.FilterVars["hsmwatch_service"] != "hsmwatch" ||
		len(r.Perfdata) != 1 || r.Perfdata[0] != "alarms=1;;;0" || r.Start == 0 {
		t.Errorf("first result: %+v", r)
	}

	// A second alarm: one result for the host with both, the worst first.
	b = f.batch(fanLow)
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	got = fake.results()
	r = got[len(got)-1]
	if len(got) != 2 || r.Perfdata[0] != "alarms=2;;;0" || !strings.Contains(r.Output, "2 open alarms on lunaA:") {
		t.Errorf("after a second alarm: %+v", got)
	}
	if worst := max(wantStatus(t, psuLevel), wantStatus(t, b[0].Decision.Alarm.Level)); r.ExitStatus != worst {
		t.Errorf("exit status %d, want the worst alarm's %d", r.ExitStatus, worst)
	}

	fanRule := b[0].Decision.Alarm.Rule
	// The PSU clears: the fan's alarm remains.
	if err := s.Write(ctx, f.batch(psuClear)); err != nil {
		t.Fatal(err)
	}
	got = fake.results()
	r = got[len(got)-1]
	if r.Perfdata[0] != "alarms=1;;;0" || strings.Contains(r.Output, "("+psuRule+")") || !strings.Contains(r.Output, "("+fanRule+")") {
		t.Errorf("after the PSU's clear: %+v", r)
	}

	// A batch without alarm changes sends nothing.
	n := len(got)
	if err := s.Write(ctx, f.batch("2026 Nov 22 10:05:30 lunaA local5 info lunash [3442]: info : 0 : Command: hsm show : admin : 192.168.0.111/2719")); err != nil {
		t.Fatal(err)
	}
	if len(fake.results()) != n {
		t.Errorf("a batch without alarm changes sent results")
	}
}

func TestIcingaOpenAlarmsAndUnknownHost(t *testing.T) {
	fake, srv, ca := startIcinga(t)
	s, err := NewIcinga(IcingaConfig{URL: srv.URL, User: "hsmwatch", Password: "s3cret pass", CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	s.OpenAlarms(context.Background(), []state.Alarm{
		{ID: "lunaA/tamper", Host: "lunaA", Key: "tamper", Rule: "luna.tamper", Title: "Tamper event", Level: "critical", Opened: opened},
		{ID: "lunaZ/x", Host: "lunaZ", Key: "x", Rule: "r", Title: "t", Level: "minor", Opened: opened},
	})
	got := fake.results()
	// lunaZ is unknown to Icinga (404): skipped, not retried for ever.
	if len(got) != 1 || got[0].ExitStatus != 2 || got[0].Output != "CRITICAL - 1 open alarm on lunaA: [critical] Tamper event (luna.tamper)" {
		t.Errorf("open alarms at start: %+v", got)
	}
	if err := s.Write(context.Background(), nil); err != nil {
		t.Errorf("an unknown host made Write fail: %v", err)
	}
}

func TestIcingaRefusedCredentials(t *testing.T) {
	fake, srv, ca := startIcinga(t)
	s, err := NewIcinga(IcingaConfig{URL: srv.URL, User: "hsmwatch", Password: "wrong-secret", CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	f := newFleet(t)
	err = s.Write(context.Background(), f.batch(psuFail))
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), `"hsmwatch"`) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("refused credentials: %v", err)
	}
	if fake.badAuth != 1 {
		t.Errorf("%d refused requests", fake.badAuth)
	}
	// Without the CA the server's certificate is refused.
	s2, _ := NewIcinga(IcingaConfig{URL: srv.URL, User: "hsmwatch", Password: "s3cret pass"})
	if err := s2.Write(context.Background(), f.batch(fanLow)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unknown CA: %v", err)
	}
}

func TestNewIcingaRefuses(t *testing.T) {
	for _, c := range []IcingaConfig{
		{URL: "http://icinga:5665", User: "u", Password: "p"},
		{URL: "https://icinga:5665", User: "u"},
		{URL: "https://icinga:5665", User: "u", Password: "p", CAFile: "/nonexistent/ca.crt"},
	} {
		if _, err := NewIcinga(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// The Nagios sink behind its queue writes to a real named pipe; while nobody reads the
// pipe, the write fails and the queue retries.
func TestNagiosCommandFile(t *testing.T) {
	pipe := filepath.Join(t.TempDir(), "nagios.cmd")
	if err := syscall.Mkfifo(pipe, 0o660); err != nil {
		t.Fatal(err)
	}
	s, err := NewNagios(NagiosConfig{CommandFile: pipe, Service: "hsm-alarms"})
	if err != nil {
		t.Fatal(err)
	}
	q := sink.NewQueue(s, sink.QueueOptions{Backoff: sink.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)

	failed := func() float64 {
		for _, fg := range q.Figures() {
			if fg.Name == "sink_failed_total" {
				return fg.Read()
			}
		}
		return -1
	}
	f := newFleet(t)
	b := f.batch(psuFail)
	if err := q.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed write to the unread pipe", func() bool { return failed() >= 1 })

	// Nagios starts reading its command file; it opens it for reading and writing, so
	// that a writer closing it is no end of file.
	r, err := os.OpenFile(pipe, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("no line reached the pipe")
	}
	fields := strings.SplitN(line, ";", 5)
	if len(fields) != 5 || !strings.HasSuffix(fields[0], "] PROCESS_SERVICE_CHECK_RESULT") || !strings.HasPrefix(fields[0], "[") ||
		fields[1] != "lunaA" || fields[2] != "hsm-alarms" || fields[3] != string(rune('0'+wantStatus(t, b[0].Decision.Alarm.Level))) ||
		!strings.HasSuffix(fields[4], "|alarms=1;;;0") || !strings.Contains(fields[4], "1 open alarm on lunaA") {
		t.Errorf("line %q", line)
	}
	if err := q.Write(ctx, f.batch(psuClear)); err != nil {
		t.Fatal(err)
	}
	select {
	case line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatal("no line for the clear")
	}
	if !strings.HasSuffix(line, ";lunaA;hsm-alarms;0;OK - no open alarm on lunaA|alarms=0;;;0") {
		t.Errorf("clear line %q", line)
	}
}

func TestNagiosLineKeepsFields(t *testing.T) {
	l := NagiosLine(Result{Host: "a;b", Service: "s\nx", Status: 1, Output: "WARNING - x|y\nz", Alarms: 1, Time: time.Unix(100, 0)})
	if l != "[100] PROCESS_SERVICE_CHECK_RESULT;a_b;s_x;1;WARNING - x/y z|alarms=1;;;0\n" {
		t.Errorf("%q", l)
	}
	long := Result{Host: "h", Service: "s", Output: strings.Repeat("é", 3000), Time: time.Unix(1, 0)}
	long.Output = cut(long.Output, maxOutput)
	if n := len(NagiosLine(long)); n >= 4096 {
		t.Errorf("a line of %d bytes would not reach the pipe in one write", n)
	}
	if !strings.HasSuffix(long.Output, "é...") {
		t.Errorf("cut inside a character: %q", long.Output[len(long.Output)-8:])
	}
}

package api

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a real SQLite store with two sites' data behind the API.
type fixture struct {
	srv     *httptest.Server
	written []*event.Event // paris's, in write order
	logs    *testutil.SyncBuffer
	store   store.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	paris, err := store.Open(ctx, dir, store.Options{Site: "paris", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { paris.Close() })
	lyon, err := store.Open(ctx, dir, store.Options{Site: "lyon", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lyon.Close() })

	f := &fixture{logs: &testutil.SyncBuffer{}, store: paris}
	levels := []string{"critical", "major", "minor", "warning", "info", "debug"}
	var recs []component.Record
	for i := range 30 {
		e := &event.Event{Time: base.Add(time.Duration(i) * time.Minute), Host: fmt.Sprint("luna", i%3),
			Source: event.SourceLunaSyslog, Process: "ntls", PID: 100 + i, Component: []string{"ntls", "ipmi"}[i%2],
			Level: levels[i%6], Message: fmt.Sprintf("message %d of 30", i), Raw: fmt.Sprintf("<13>raw %d", i)}
		e.Fields.SetInt("counter", int64(i))
		e.Fields.SetString("sensor", "Fan3B")
		if i%5 == 0 {
			e.Assert = event.True
		}
		f.written = append(f.written, e)
		recs = append(recs, component.Record{Event: e, Key: fmt.Sprint("k", i)})
	}
	recs[7].Event.Message = "Percent 100% done_now"
	recs[8].Event.Message = "donexnow"
	if _, err := paris.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := lyon.Write(ctx, []component.Record{{Event: &event.Event{Time: base, Host: "dinamo1", Level: "critical", Raw: "lyon's"}}}); err != nil {
		t.Fatal(err)
	}
	open := state.Alarm{Host: "luna1", Key: "fan", Rule: "ipmi.fan", Level: "critical", Opened: base, LastSeen: base, Asserts: 2}
	cleared := state.Alarm{Host: "luna2", Key: "psu", Rule: "ipmi.psu", Level: "major", Opened: base, LastSeen: base,
		Asserts: 1, Cleared: base.Add(time.Minute), ClearedBy: "ipmi.psu.ok"}
	if err := paris.PutAlarms(ctx, []state.Alarm{open, cleared}); err != nil {
		t.Fatal(err)
	}
	if err := lyon.PutAlarms(ctx, []state.Alarm{{Host: "dinamo1", Key: "x", Opened: base, LastSeen: base, Asserts: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := paris.PutSamples(ctx, []store.Sample{{Host: "luna1", Metric: "temperature", Value: 41.5, Time: base}}); err != nil {
		t.Fatal(err)
	}
	h := New(paris, Options{Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Actions: paris,
		Now: func() time.Time { return base.Add(30 * time.Minute) }, StaleAfter: time.Hour})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: content type %q", path, ct)
	}
	if !json.Valid(b) {
		t.Fatalf("%s: invalid JSON: %s", path, b)
	}
	return resp.StatusCode, b
}

type eventsBody struct {
	Events []json.RawMessage `json:"events"`
	Next   *string           `json:"next"`
}

func (f *fixture) events(t *testing.T, query string) ([]event.Event, []string, eventsBody) {
	t.Helper()
	code, b := f.get(t, "/api/events?"+query)
	if code != http.StatusOK {
		t.Fatalf("events?%s: %d %s", query, code, b)
	}
	var body eventsBody
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	var sites []string
	for _, raw := range body.Events {
		var e event.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
		var extra struct {
			ID   int64  `json:"id"`
			Site string `json:"site"`
		}
		if err := json.Unmarshal(raw, &extra); err != nil || extra.ID == 0 {
			t.Fatalf("event %s: id and site: %v", raw, err)
		}
		evs = append(evs, e)
		sites = append(sites, extra.Site)
	}
	return evs, sites, body
}

func TestEventsSchemaAndPagination(t *testing.T) {
	f := newFixture(t)
	var got []event.Event
	var raws []json.RawMessage
	q := "site=paris&limit=7"
	pages := 0
	for {
		evs, sites, body := f.events(t, q)
		for _, s := range sites {
			if s != "paris" {
				t.Errorf("site %q in a paris query", s)
			}
		}
		got = append(got, evs...)
		raws = append(raws, body.Events...)
		pages++
		if body.Next == nil {
			break
		}
		q = "site=paris&limit=7&cursor=" + url.QueryEscape(*body.Next)
	}
	if len(got) != 30 || pages != 5 {
		t.Fatalf("%d events in %d pages, want 30 in 5", len(got), pages)
	}
	// Newest first, each the event that was written: its schema v1 form byte for byte
	// after the "id" and "site" keys, and the same event once decoded.
	prefix := regexp.MustCompile(`^\{"id":[0-9]+,"site":"paris",`)
	for i, raw := range raws {
		want := f.written[29-i]
		loc := prefix.FindIndex(raw)
		if loc == nil {
			t.Fatalf("event %d does not start with id and site: %s", i, raw)
		}
		if g, w := "{"+string(raw[loc[1]:]), string(want.AppendJSON(nil)); g != w {
			t.Errorf("event %d\n got  %s\n want %s", i, g, w)
		}
		if !got[i].Time.Equal(want.Time) || got[i].Fields.Text("counter") != fmt.Sprint(29-i) || got[i].Assert != want.Assert {
			t.Errorf("event %d decodes to %+v", i, got[i])
		}
	}
}

func TestEventsFilters(t *testing.T) {
	f := newFixture(t)
	count := func(q string) int {
		evs, _, _ := f.events(t, q)
		return len(evs)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"", 31},
		{"site=lyon", 1},
		{"host=luna1", 10},
		{"component=ipmi", 15},
		{"level=critical", 6},
		{"level=MAJOR", 11},
		{"level=warning", 21},
		{"since=10m", 10},         // now is base+30m: events 20..29
		{"since=10m&until=5m", 5}, // 20..24
		{"since=" + url.QueryEscape("2026-03-01T12:25:00Z"), 5},
		{"since=2026-03-01T13:25:00+01:00", 5}, // the '+' arrives as a space
		{"until=2026-03-01", 0},
		{"q=PERCENT+100%25", 1},
		{"q=t+1%25", 0},   // % is literal: "t 1%" is not in "Percent 100%"
		{"q=done_now", 1}, // _ is literal: "donexnow" does not match
		{"q=donexnow", 1},
		{"q=raw+2", 11}, // raw text: 2, 20..29
		{"host=luna1&level=major&limit=1000", 5},
	} {
		if got := count(tc.q); got != tc.want {
			t.Errorf("events?%s: %d events, want %d", tc.q, got, tc.want)
		}
	}
}

func TestBadParameters(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, param string }{
		{"/api/events?level=severe", "level"},
		{"/api/events?since=yesterday", "since"},
		{"/api/events?until=-5h", "until"},
		{"/api/events?since=1h&until=2h", "until"},
		{"/api/events?limit=0", "limit"},
		{"/api/events?limit=1001", "limit"},
		{"/api/events?limit=ten", "limit"},
		{"/api/events?cursor=bogus", "cursor"},
		{"/api/events?hots=luna1", "hots"},
		{"/api/events?host=a&host=b", "host"},
		{"/api/alarms?open=maybe", "open"},
		{"/api/alarms?level=urgent", "level"},
		{"/api/alarms?state=closed", "state"},
		{"/api/alarms?sort=name", "sort"},
		{"/api/alarms?hots=luna1", "hots"},
		{"/api/hsms?host=x", "host"},
	} {
		code, b := f.get(t, tc.path)
		var body struct{ Error string }
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		if code != http.StatusBadRequest || !strings.HasPrefix(body.Error, tc.param+":") {
			t.Errorf("%s: %d %q, want 400 naming %q", tc.path, code, body.Error, tc.param)
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Post(f.srv.URL+"/api/events", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if code, _ := f.get(t, "/api/nothing"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
}

func TestAlarms(t *testing.T) {
	f := newFixture(t)
	type body struct {
		Alarms []store.Alarm `json:"alarms"`
	}
	get := func(q string) []store.Alarm {
		code, b := f.get(t, "/api/alarms?"+q)
		if code != http.StatusOK {
			t.Fatalf("alarms?%s: %d %s", q, code, b)
		}
		var bd body
		if err := json.Unmarshal(b, &bd); err != nil {
			t.Fatal(err)
		}
		return bd.Alarms
	}
	if as := get(""); len(as) != 2 { // open, both sites
		t.Errorf("open alarms: %+v", as)
	}
	if as := get("site=paris"); len(as) != 1 || as[0].Host != "luna1" || as[0].Asserts != 2 || as[0].Site != "paris" {
		t.Errorf("paris's open alarms: %+v", as)
	}
	as := get("open=false&site=paris")
	if len(as) != 2 || as[0].Key != "psu" || !as[0].Cleared.Equal(base.Add(time.Minute)) || as[0].ClearedBy != "ipmi.psu.ok" {
		t.Errorf("recent alarms: %+v", as)
	}
	if as := get("open=false&host=nobody"); as == nil || len(as) != 0 {
		t.Errorf("no alarms must be [], got %+v", as)
	}
}

func TestHSMs(t *testing.T) {
	f := newFixture(t)
	code, b := f.get(t, "/api/hsms?site=paris")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var body struct {
		HSMs []store.HSM `json:"hsms"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.HSMs) != 3 {
		t.Fatalf("hsms: %s", b)
	}
	l := body.HSMs[1]
	if l.Host != "luna1" || l.OpenAlarms != 1 || len(l.Samples) != 1 || l.Samples[0].Value != 41.5 ||
		!l.LastEvent.Equal(base.Add(28*time.Minute)) || l.Events["major"] != 5 || l.Events["info"] != 5 {
		t.Errorf("luna1: %+v", l)
	}
}

// TestInternalErrorHidden: a failing store gives the client a bare 500; the cause goes
// to the log.
func TestInternalErrorHidden(t *testing.T) {
	f := newFixture(t)
	f.store.Close() // every query now fails inside database/sql
	code, b := f.get(t, "/api/events")
	if code != http.StatusInternalServerError {
		t.Fatalf("%d %s", code, b)
	}
	if string(b) != `{"error":"internal error"}`+"\n" {
		t.Errorf("500 body says more than it should: %s", b)
	}
	if !strings.Contains(f.logs.String(), "closed") {
		t.Errorf("the cause was not logged: %q", f.logs.String())
	}
}

// TestAlarmMessageClipped: an alarm whose latest assert was a 1 MB line is listed with its
// message clipped to the listing's clip size and "clipped": true, as events are, so that a
// few such alarms cannot make /api/alarms megabytes long.
func TestAlarmMessageClipped(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("é", 1<<19) // 1 MiB of two-byte characters
	a := state.Alarm{Host: "luna1", Key: "long", Rule: "ipmi.fan", Level: "major", Opened: base, LastSeen: base, Asserts: 1, Message: long}
	if err := f.store.PutAlarms(context.Background(), []state.Alarm{a}); err != nil {
		t.Fatal(err)
	}
	code, b := f.get(t, "/api/alarms?host=luna1")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	if len(b) > 64<<10 {
		t.Errorf("the listing is %d bytes", len(b))
	}
	var body struct {
		Alarms []struct {
			Key     string `json:"key"`
			Message string `json:"message"`
			Clipped bool   `json:"clipped"`
		} `json:"alarms"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, al := range body.Alarms {
		if al.Key != "long" {
			if al.Clipped {
				t.Errorf("alarm %s clipped: %q", al.Key, al.Message)
			}
			continue
		}
		found = true
		if !al.Clipped || len(al.Message) > 4<<10 || !strings.HasPrefix(long, al.Message) || !utf8.ValidString(al.Message) {
			t.Errorf("long alarm: clipped %v, %d bytes", al.Clipped, len(al.Message))
		}
	}
	if !found {
		t.Errorf("no alarm long in %s", b)
	}
}

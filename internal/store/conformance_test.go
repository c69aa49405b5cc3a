package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
)

// The conformance suite runs the same tests against both backends: what a caller sees
// must not depend on the database behind the store.

func TestSQLite(t *testing.T) {
	runConformance(t, "sqlite", func(t *testing.T) string { return "sqlite:" + t.TempDir() })
}

func TestPostgres(t *testing.T) {
	srv := pgtest.StartServer(t) // one server, a fresh database per test
	runConformance(t, "postgres", func(t *testing.T) string { return srv.NewDatabase(t) })
}

type conformance struct {
	kind   string
	newDSN func(t *testing.T) string
}

func runConformance(t *testing.T, kind string, newDSN func(t *testing.T) string) {
	c := conformance{kind: kind, newDSN: newDSN}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"RoundTrip", c.testRoundTrip},
		{"DamagedText", c.testDamagedText},
		{"Idempotent", c.testIdempotent},
		{"Filters", c.testFilters},
		{"Pagination", c.testPagination},
		{"EachEventStops", c.testEachEventStops},
		{"Alarms", c.testAlarms},
		{"WriteBatch", c.testWriteBatch},
		{"OperatorActions", c.testOperatorActions},
		{"SamplesAndHSMs", c.testSamplesAndHSMs},
		{"SampleHistory", c.testSampleHistory},
		{"RetentionByAge", c.testRetentionByAge},
		{"RetentionByCount", c.testRetentionByCount},
		{"RetentionBySize", c.testRetentionBySize},
		{"RetentionByIngestTime", c.testRetentionByIngestTime},
		{"TwoSites", c.testTwoSites},
		{"RenameHost", c.testRenameHost},
		{"EventCounts", c.testEventCounts},
		{"ConcurrentMigration", c.testConcurrentMigration},
		{"ConcurrentUse", c.testConcurrentUse},
	} {
		t.Run(tc.name, tc.fn)
	}
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T, dsn, site string) *sqlStore {
	t.Helper()
	st, err := Open(context.Background(), dsn, Options{Site: site, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open %s: %v", site, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return st.(*sqlStore)
}

// testLogger writes the store's messages to the test's output (shown with -v or on
// failure).
func testLogger(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

func write(t *testing.T, st Store, evs ...*event.Event) {
	t.Helper()
	recs := make([]component.Record, len(evs))
	for i, e := range evs {
		recs[i] = component.Record{Event: e}
	}
	if _, err := st.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// writeKeyed stores one record per key and returns which ones the store already held.
func writeKeyed(t *testing.T, st Store, keys ...string) []bool {
	t.Helper()
	recs := make([]component.Record, len(keys))
	for i, k := range keys {
		recs[i] = component.Record{Key: k, Event: &event.Event{Time: base, Host: "h", Source: event.SourceLunaSyslog,
			Message: "record " + k, Raw: "raw " + k}}
	}
	replayed, err := st.Write(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(replayed) != len(recs) {
		t.Fatalf("Write reported %d replay flags for %d records", len(replayed), len(recs))
	}
	return replayed
}

// all walks every page of f.
func all(t *testing.T, st Store, f EventFilter) []StoredEvent {
	t.Helper()
	var out []StoredEvent
	for i := 0; ; i++ {
		p, err := st.Events(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Events...)
		if p.Next == "" {
			return out
		}
		if i > 10000 {
			t.Fatal("pagination does not end")
		}
		f.Cursor = p.Next
	}
}

func fullEvent() *event.Event {
	e := &event.Event{
		Time: time.Date(2012, 2, 29, 12, 5, 1, 123456789, time.FixedZone("", -5*3600)),
		Host: "myLuna", Source: event.SourceLunaSyslog, Facility: "local4", Severity: "notice",
		Process: "ipmievd", PID: 1234, Message: "Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)",
		Component: "ipmi", Class: "significant", Rule: "ipmi.threshold", Title: "Threshold Events",
		Level: "critical", Notification: "fanAttentionNotify", Assert: event.True, Test: true,
		Input: "messages:12", Reason: "", Raw: "raw \"quoted\" \\ line\twith\x01control é€😀 \u2028",
		Cleared: "myLuna/Fan3A", // a field the store keeps in a column of its own
	}
	e.Fields.SetString("sensor", "Fan3B")
	e.Fields.SetFloat("reading", 0.5)
	e.Fields.SetFloat("whole", 2) // a float with an integral value stays a float
	e.Fields.SetFloat("big", 1e21)
	e.Fields.SetInt("counter", -409)
	e.Fields.SetInt("max", math.MaxInt64)
	e.Fields.SetBool("tls", true)
	e.Fields.SetBool("off", false)
	e.Fields.SetString("a_key", "") // order kept: not alphabetical
	return e
}

// sameEvent fails unless got is want: the same JSON form, and the same Go value once
// the time's location (which RFC 3339 text cannot carry, only its offset) is set aside.
func sameEvent(t *testing.T, got, want *event.Event) {
	t.Helper()
	if g, w := string(got.AppendJSON(nil)), string(want.AppendJSON(nil)); g != w {
		t.Errorf("JSON differs\n got  %s\n want %s", g, w)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	_, go1 := got.Time.Zone()
	_, wo := want.Time.Zone()
	if go1 != wo {
		t.Errorf("time offset %d, want %d", go1, wo)
	}
	g, w := *got, *want
	g.Time, w.Time = time.Time{}, time.Time{}
	if len(g.Fields) == 0 && len(w.Fields) == 0 {
		g.Fields, w.Fields = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("event differs\n got  %+v\n want %+v", g, w)
	}
}

func (c conformance) testRoundTrip(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	full := fullEvent()
	clear := &event.Event{Time: base, Host: "dinamo1", Source: event.SourceSNMPTrap, Message: "fan ok",
		Level: "info", Assert: event.False, Raw: "trap summary"}
	noTime := &event.Event{Host: "pcie", Source: event.SourceLunaAlarm, Message: "ALM2004", Raw: "ALM2004: bare"}
	unparsed := &event.Event{Time: base.In(time.FixedZone("", 5*3600+30*60)), Source: event.SourceUnparsed,
		Reason: "auto: no parser", Raw: "???"}
	before := time.Now()
	if _, err := st.Write(context.Background(), []component.Record{
		{Event: full, Key: "file:/var/log/messages:100"}, {Event: clear}, {Event: noTime}, {Event: unparsed},
	}); err != nil {
		t.Fatal(err)
	}
	got := all(t, st, EventFilter{})
	if len(got) != 4 {
		t.Fatalf("%d events back, want 4", len(got))
	}
	byHost := map[string]*StoredEvent{}
	for i, se := range got {
		if se.Site != "lab" || se.ID == 0 {
			t.Errorf("bookkeeping: site %q id %d", se.Site, se.ID)
		}
		byHost[se.Event.Host] = &got[i]
	}
	sameEvent(t, &byHost["myLuna"].Event, full)
	if byHost["myLuna"].Key != "file:/var/log/messages:100" || byHost["dinamo1"].Key != "" {
		t.Errorf("keys: %q %q", byHost["myLuna"].Key, byHost["dinamo1"].Key)
	}
	sameEvent(t, &byHost["dinamo1"].Event, clear)
	sameEvent(t, &byHost["pcie"].Event, noTime)
	sameEvent(t, &byHost[""].Event, unparsed)

	// An event without a time sorts and filters by when it was stored: it is the newest,
	// and a "since an hour ago" query finds it.
	if got[0].Event.Host != "pcie" {
		t.Errorf("newest is %q, want the event without a time", got[0].Event.Host)
	}
	recent := all(t, st, EventFilter{Since: before.Add(-time.Hour)})
	if len(recent) != 1 || recent[0].Event.Host != "pcie" {
		t.Errorf("since an hour ago: %d events", len(recent))
	}
}

// testDamagedText stores a line with invalid UTF-8: SQLite keeps the bytes, PostgreSQL
// (which refuses them) stores U+FFFD; either way the JSON value comes back unchanged and
// the batch is not refused.
func (c conformance) testDamagedText(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	e := &event.Event{Time: base, Host: "h\xff", Source: event.SourceUnparsed, Raw: "bad \xfe\xff bytes"}
	e.Fields.SetString("k\xff", "v\xfe")
	write(t, st, e)
	got := all(t, st, EventFilter{})
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	// The same JSON value (a field's invalid bytes come back as the character U+FFFD,
	// which the encoder writes as itself rather than as \ufffd).
	var g, w any
	if err := json.Unmarshal(got[0].Event.AppendJSON(nil), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.AppendJSON(nil), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got  %s\n want %s", got[0].Event.AppendJSON(nil), e.AppendJSON(nil))
	}
	if c.kind == "sqlite" && got[0].Event.Raw != e.Raw {
		t.Errorf("SQLite changed the raw bytes: %q", got[0].Event.Raw)
	}
}

func (c conformance) testIdempotent(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	keys := func(from, to int) []string {
		var ks []string
		for i := from; i < to; i++ {
			ks = append(ks, fmt.Sprintf("file:/var/log/messages:%d", i))
		}
		return ks
	}
	if r := writeKeyed(t, st, keys(0, 10)...); slices.Contains(r, true) {
		t.Fatalf("first write reported replays: %v", r)
	}
	// A crash after the commit and before the checkpoint: the source reads 5..9 again,
	// then goes on to 10..14. The store reports 5..9 as replayed, so that the pipeline
	// keeps them from the sinks that had them before the crash.
	r := writeKeyed(t, st, keys(5, 15)...)
	for i, replayed := range r {
		if want := i < 5; replayed != want {
			t.Fatalf("record %d of the re-read: replayed %v, want %v", 5+i, replayed, want)
		}
	}
	// A batch read again whole stores nothing.
	if r := writeKeyed(t, st, keys(0, 4)...); slices.Contains(r, false) {
		t.Fatalf("a batch read again: replayed %v, want all", r)
	}
	// The same key twice in one batch is stored once too; the second is the replay.
	if r := writeKeyed(t, st, "dup", "dup"); !slices.Equal(r, []bool{false, true}) {
		t.Fatalf("same key twice in a batch: replayed %v, want [false true]", r)
	}
	got := all(t, st, EventFilter{})
	if len(got) != 16 {
		t.Fatalf("%d events stored, want 16 (15 keys and one duplicate pair)", len(got))
	}
	seen := map[string]bool{}
	for _, se := range got {
		if seen[se.Key] {
			t.Errorf("key %q stored twice", se.Key)
		}
		seen[se.Key] = true
		if se.Event.Message != "record "+se.Key {
			t.Errorf("key %q carries %q", se.Key, se.Event.Message)
		}
	}
	// Records without a key cannot be recognised: each is stored.
	write(t, st, &event.Event{Time: base, Raw: "no key"}, &event.Event{Time: base, Raw: "no key"})
	write(t, st, &event.Event{Time: base, Raw: "no key"})
	if n := len(all(t, st, EventFilter{Text: "no key"})); n != 3 {
		t.Errorf("%d keyless events, want 3", n)
	}
	// A refused batch stores nothing, not even its valid records.
	_, err := st.Write(context.Background(), []component.Record{{Key: "new", Event: &event.Event{Raw: "refused-batch"}}, {Key: "nil"}})
	if err == nil {
		t.Fatal("a record without an event was accepted")
	}
	if n := len(all(t, st, EventFilter{Text: "refused-batch"})); n != 0 {
		t.Errorf("part of a refused batch was stored")
	}
}

func (c conformance) testFilters(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	mk := func(min int, host, comp, level, msg string) *event.Event {
		return &event.Event{Time: base.Add(time.Duration(min) * time.Minute), Host: host, Source: event.SourceLunaSyslog,
			Component: comp, Level: level, Message: msg, Raw: "<13>" + host + " " + msg}
	}
	write(t, st,
		mk(0, "luna1", "ipmi", "critical", "Fan3B going low"),
		mk(1, "luna1", "ntls", "warning", "100% done!"),
		mk(2, "luna2", "ntls", "info", "1000 done"),
		mk(3, "luna2", "ssh", "debug", "user a_b logged in"),
		mk(4, "luna2", "ssh", "minor", "user axb logged in"),
		mk(5, "dinamo", "dinamo", "major", "CaseMIX text"),
		mk(6, "dinamo", "dinamo", "", `path C:\hsm\log`),
	)
	hosts := func(evs []StoredEvent) string {
		var hs []string
		for _, e := range evs {
			hs = append(hs, e.Event.Host+":"+e.Event.Level)
		}
		return strings.Join(hs, " ")
	}
	for _, tc := range []struct {
		name string
		f    EventFilter
		want string // newest first
	}{
		{"all", EventFilter{}, "dinamo: dinamo:major luna2:minor luna2:debug luna2:info luna1:warning luna1:critical"},
		{"host", EventFilter{Host: "luna1"}, "luna1:warning luna1:critical"},
		{"component", EventFilter{Component: "ssh"}, "luna2:minor luna2:debug"},
		{"level warning", EventFilter{MinLevel: "warning"}, "dinamo:major luna2:minor luna1:warning luna1:critical"},
		{"level critical", EventFilter{MinLevel: "critical"}, "luna1:critical"},
		{"level debug excludes unleveled", EventFilter{MinLevel: "debug"}, "dinamo:major luna2:minor luna2:debug luna2:info luna1:warning luna1:critical"},
		{"since inclusive", EventFilter{Since: base.Add(4 * time.Minute)}, "dinamo: dinamo:major luna2:minor"},
		{"until exclusive", EventFilter{Until: base.Add(2 * time.Minute)}, "luna1:warning luna1:critical"},
		{"range", EventFilter{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)}, "luna2:info luna1:warning"},
		{"text percent is literal", EventFilter{Text: "100%"}, "luna1:warning"},
		{"text underscore is literal", EventFilter{Text: "a_b"}, "luna2:debug"},
		{"text case-insensitive", EventFilter{Text: "casemix"}, "dinamo:major"},
		{"text backslash", EventFilter{Text: `C:\hsm`}, "dinamo:"},
		{"text escape character", EventFilter{Text: "done!"}, "luna1:warning"},
		{"text in raw", EventFilter{Text: "<13>LUNA2"}, "luna2:minor luna2:debug luna2:info"},
		{"combined", EventFilter{Host: "luna2", MinLevel: "info", Text: "done"}, "luna2:info"},
		{"site", EventFilter{Site: "lab"}, "dinamo: dinamo:major luna2:minor luna2:debug luna2:info luna1:warning luna1:critical"},
		{"other site", EventFilter{Site: "elsewhere"}, ""},
	} {
		if got := hosts(all(t, st, tc.f)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := st.Events(context.Background(), EventFilter{MinLevel: "severe"}); !errors.Is(err, ErrBadFilter) {
		t.Errorf("unknown level: %v", err)
	}
	if _, err := st.Events(context.Background(), EventFilter{Limit: MaxLimit + 1}); !errors.Is(err, ErrBadFilter) {
		t.Errorf("limit over the maximum: %v", err)
	}
}

func (c conformance) testPagination(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	var evs []*event.Event
	for i := range 25 {
		// Five events share each second: the id breaks the ties.
		evs = append(evs, &event.Event{Time: base.Add(time.Duration(i/5) * time.Second), Host: "h",
			Message: fmt.Sprint("m", i), Raw: fmt.Sprint("r", i)})
	}
	write(t, st, evs...)
	f := EventFilter{Limit: 7}
	var pages [][]StoredEvent
	for {
		p, err := st.Events(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p.Events)
		if len(pages) == 2 {
			// A newer event written between pages does not disturb the walk.
			write(t, st, &event.Event{Time: base.Add(time.Hour), Host: "h", Raw: "late"})
		}
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	var sizes []int
	var flat []StoredEvent
	for _, p := range pages {
		sizes = append(sizes, len(p))
		flat = append(flat, p...)
	}
	if fmt.Sprint(sizes) != "[7 7 7 4]" {
		t.Errorf("page sizes %v, want [7 7 7 4]", sizes)
	}
	for i := range flat {
		if want := fmt.Sprint("r", 24-i); flat[i].Event.Raw != want {
			t.Fatalf("position %d holds %q, want %q (newest first, ties by id)", i, flat[i].Event.Raw, want)
		}
	}
	// Exactly a page: no empty page after it.
	p, err := st.Events(context.Background(), EventFilter{Limit: 26})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 26 || p.Next != "" {
		t.Errorf("26 events in one page of 26: got %d, next %q", len(p.Events), p.Next)
	}
	for _, bad := range []string{"nonsense", "ZTE6MTI", encodeCursor(1, 2)[:5] + "!"} {
		if _, err := st.Events(context.Background(), EventFilter{Cursor: bad}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}

func alarm(host, key string, opened time.Time, asserts int64) state.Alarm {
	return state.Alarm{Host: host, Key: key, Rule: "r." + key, Title: "T " + key, Component: "ipmi",
		Level: "major", Notification: "fanAttentionNotify", Message: "assert", Opened: opened,
		LastSeen: opened, Asserts: asserts}
}

func put(t *testing.T, st Store, as ...state.Alarm) {
	t.Helper()
	if err := st.PutAlarms(context.Background(), as); err != nil {
		t.Fatal(err)
	}
}

func alarms(t *testing.T, st Store, f AlarmFilter) []Alarm {
	t.Helper()
	as, err := st.Alarms(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (c conformance) testAlarms(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	t1, t2, t3, t4, t5 := base, base.Add(time.Minute), base.Add(2*time.Minute), base.Add(3*time.Minute), base.Add(4*time.Minute)

	a := alarm("luna1", "fan3b", t1, 1)
	put(t, st, a)
	a.Asserts, a.LastSeen, a.Level, a.Message = 3, t2, "critical", "assert again"
	// The evidence of one fault: its log line and the trap that names it.
	a.ID = "luna1/fan3b"
	a.Evidence = []state.Evidence{{Source: "luna-syslog", Rule: "luna.ipmi.fan", Time: t1, Input: "messages:4", Assert: true},
		{Source: "snmp-trap", Rule: "luna.trap.fan", Time: t2, Input: "10.0.0.5:40000", Assert: true}}
	a.Sources = map[string]int64{"luna-syslog": 1, "snmp-trap": 2}
	put(t, st, a, alarm("luna2", "psu", t1, 1))

	open := alarms(t, st, AlarmFilter{Open: true})
	if len(open) != 2 {
		t.Fatalf("%d open alarms, want 2", len(open))
	}
	if got := open[0]; got.Alarm.ID != "luna1/fan3b" || len(got.Evidence) != 2 || got.Evidence[1].Source != "snmp-trap" ||
		!got.Evidence[1].Time.Equal(t2) || got.Sources["snmp-trap"] != 2 {
		t.Errorf("the alarm's evidence did not read back: %+v %+v %+v", got.Alarm.ID, got.Evidence, got.Sources)
	}
	got := open[0]
	if got.Site != "lab" || got.Host != "luna1" || got.Asserts != 3 || !got.LastSeen.Equal(t2) || !got.Opened.Equal(t1) ||
		got.Level != "critical" || got.Message != "assert again" || got.Rule != "r.fan3b" || !got.Cleared.IsZero() {
		t.Errorf("repeated alarm: %+v", got)
	}
	if h := alarms(t, st, AlarmFilter{Open: true, Host: "luna2"}); len(h) != 1 || h[0].Key != "psu" {
		t.Errorf("host filter: %+v", h)
	}

	// Clear, then open again: two occurrences.
	cl := a
	cl.Cleared, cl.ClearedBy = t3, "r.fan3b.ok"
	put(t, st, cl)
	if open := alarms(t, st, AlarmFilter{Open: true, Host: "luna1"}); len(open) != 0 {
		t.Errorf("cleared alarm still open: %+v", open)
	}
	put(t, st, alarm("luna1", "fan3b", t4, 1))
	recent := alarms(t, st, AlarmFilter{Host: "luna1"})
	if len(recent) != 2 || !recent[0].Opened.Equal(t4) || !recent[1].Cleared.Equal(t3) || recent[1].ClearedBy != "r.fan3b.ok" {
		t.Fatalf("recent alarms of luna1: %+v", recent)
	}

	// A row closed because its alarm moved (the trap's key to its log line's) is not a
	// cleared alarm of the list: the fault goes on under the new row.
	mv := alarm("luna1", "trap.fanAttentionNotify", t4, 1)
	put(t, st, mv)
	mv.Cleared, mv.ClearedBy = t4, "moved to luna1/fan3b"
	put(t, st, mv)
	if recent := alarms(t, st, AlarmFilter{Host: "luna1"}); len(recent) != 2 {
		t.Fatalf("the moved row is listed: %+v", recent)
	}

	// A replay after a crash: the old assert and the old clear change nothing.
	put(t, st, alarm("luna1", "fan3b", t1, 1), cl)
	recent = alarms(t, st, AlarmFilter{Host: "luna1"})
	if len(recent) != 2 || !recent[0].Cleared.IsZero() || !recent[0].Opened.Equal(t4) || recent[1].Asserts != 3 {
		t.Fatalf("after a replay: %+v", recent)
	}

	// A restarted tracker opens the alarm again at t5: it merges into the open row, which
	// keeps its opening time; then its clear closes that row.
	re := alarm("luna1", "fan3b", t5, 1)
	put(t, st, re)
	open = alarms(t, st, AlarmFilter{Open: true, Host: "luna1"})
	if len(open) != 1 || !open[0].Opened.Equal(t4) || !open[0].LastSeen.Equal(t5) {
		t.Fatalf("after a restart: %+v", open)
	}
	re.Cleared, re.ClearedBy = t5.Add(time.Second), "r.fan3b.ok"
	put(t, st, re)
	if open := alarms(t, st, AlarmFilter{Open: true, Host: "luna1"}); len(open) != 0 {
		t.Errorf("the restarted tracker's clear left it open: %+v", open)
	}
	if n := len(alarms(t, st, AlarmFilter{})); n != 3 {
		t.Errorf("%d alarm rows, want 3", n)
	}
	if n := len(alarms(t, st, AlarmFilter{Limit: 1})); n != 1 {
		t.Errorf("limit 1 gave %d", n)
	}
}

// testWriteBatch stores events and alarm changes in one WriteBatch and checks that the
// changes, which it merges by occurrence, leave the rows that applying them one by one
// leaves; a failing batch stores neither its events nor its alarms.
func (c conformance) testWriteBatch(t *testing.T) {
	ctx := context.Background()
	t1, t2, t3, t4 := base, base.Add(time.Minute), base.Add(2*time.Minute), base.Add(3*time.Minute)
	changes := func() []state.Alarm {
		a := alarm("luna1", "fan3b", t1, 1)
		b := alarm("luna2", "psu", t1, 1)
		var out []state.Alarm
		out = append(out, a, b)
		a.Asserts, a.LastSeen, a.Message = 2, t3, "late line first"
		out = append(out, a)
		a.Asserts, a.LastSeen, a.Message, a.Rule = 3, t2, "an earlier time read later", "r.other"
		a.Evidence = []state.Evidence{{Source: "snmp-trap", Rule: "luna.trap.fan", Time: t2, Input: "10.0.0.5:40000", Assert: true}}
		out = append(out, a)
		a.Cleared, a.ClearedBy = t3, "r.fan3b.ok"
		out = append(out, a, alarm("luna1", "fan3b", t4, 1)) // cleared, then a new occurrence
		b.Asserts, b.LastSeen = 5, t4
		return append(out, b)
	}
	one := openStore(t, c.newDSN(t), "lab")
	for _, a := range changes() {
		put(t, one, a)
	}
	batch := openStore(t, c.newDSN(t), "lab")
	recs := []component.Record{{Key: "k1", Event: &event.Event{Time: t1, Host: "luna1", Message: "fan", Raw: "fan"}}}
	replayed, err := batch.WriteBatch(ctx, Batch{Records: recs, Alarms: changes()})
	if err != nil || len(replayed) != 1 || replayed[0] {
		t.Fatalf("WriteBatch: replayed %v, err %v", replayed, err)
	}
	if replayed, err := batch.WriteBatch(ctx, Batch{Records: recs}); err != nil || !replayed[0] {
		t.Errorf("the same key again: replayed %v, err %v", replayed, err)
	}
	want, got := alarms(t, one, AlarmFilter{Limit: 10}), alarms(t, batch, AlarmFilter{Limit: 10})
	if len(want) != 3 || len(got) != len(want) {
		t.Fatalf("%d rows from one change at a time, %d from the batch, want 3", len(want), len(got))
	}
	// Ids may differ (a merged change inserts its row where its last change was); the
	// rows must not.
	byOccurrence := func(as []Alarm) {
		slices.SortFunc(as, func(x, y Alarm) int {
			return cmp.Or(strings.Compare(x.Host, y.Host), strings.Compare(x.Key, y.Key), x.Opened.Compare(y.Opened))
		})
	}
	byOccurrence(want)
	byOccurrence(got)
	for i := range want {
		want[i].ID, got[i].ID = 0, 0
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\nbatch    %+v\none by one %+v", i, got[i], want[i])
		}
	}
	if w := alarms(t, one, AlarmFilter{Open: true, Host: "luna1"}); len(w) != 1 || !w[0].Opened.Equal(t4) {
		t.Errorf("open rows of luna1: %+v", w)
	}

	// A batch of a key stored before, a new key and an alarm change: PostgreSQL's COPY fails
	// on the stored key, and the batch goes on in the same transaction through the INSERT
	// that skips it.
	again := []component.Record{recs[0], {Key: "k3", Event: &event.Event{Time: t2, Host: "luna5", Message: "psu", Raw: "psu"}}}
	replayed, err = batch.WriteBatch(ctx, Batch{Records: again, Alarms: []state.Alarm{alarm("luna5", "psu", t2, 1)}})
	if err != nil || !slices.Equal(replayed, []bool{true, false}) {
		t.Errorf("a stored key and a new one: replayed %v, want [true false], err %v", replayed, err)
	}
	if ev := all(t, batch, EventFilter{Host: "luna5"}); len(ev) != 1 || ev[0].Key != "k3" {
		t.Errorf("events of luna5 after the batch: %+v", ev)
	}
	if a := alarms(t, batch, AlarmFilter{Host: "luna5"}); len(a) != 1 {
		t.Errorf("alarms of luna5 after the batch: %+v", a)
	}

	// A batch that fails stores nothing: here its context is already over.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	rec := []component.Record{{Key: "k2", Event: &event.Event{Time: t1, Host: "luna3", Message: "x", Raw: "x"}}}
	if _, err := batch.WriteBatch(dead, Batch{Records: rec, Renames: [][2]string{{"luna1", "luna9"}},
		Alarms: []state.Alarm{alarm("luna3", "psu", t1, 1)}}); err == nil {
		t.Fatal("WriteBatch with a cancelled context: no error")
	}
	if n := len(all(t, batch, EventFilter{Host: "luna3"})); n != 0 {
		t.Errorf("a failed batch stored %d events", n)
	}
	if n := len(alarms(t, batch, AlarmFilter{Host: "luna3"})); n != 0 {
		t.Errorf("a failed batch stored %d alarms", n)
	}
	if n := len(all(t, batch, EventFilter{Host: "luna1"})); n != 1 {
		t.Errorf("a failed batch renamed a host: %d events left under the old name, want 1", n)
	}

	// A batch that renames a host (an HSM known by its address, then by its name) moves
	// the events stored before it and its own, in its transaction.
	ren := []component.Record{{Key: "k3", Event: &event.Event{Time: t2, Host: "10.0.0.5", Message: "poll failed", Raw: "poll failed"}},
		{Key: "k4", Event: &event.Event{Time: t3, Host: "luna5", Message: "renamed", Raw: "renamed"}}}
	if _, err := batch.WriteBatch(ctx, Batch{Records: ren[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := batch.WriteBatch(ctx, Batch{Records: ren[1:], Renames: [][2]string{{"10.0.0.5", "luna5"}}}); err != nil {
		t.Fatal(err)
	}
	if old, renamed := all(t, batch, EventFilter{Host: "10.0.0.5"}), all(t, batch, EventFilter{Host: "luna5"}); len(old) != 0 || len(renamed) != 2 {
		t.Errorf("after a batch's rename: %d events under the address, %d under the name, want 0 and 2", len(old), len(renamed))
	}
}

func (c conformance) testSamplesAndHSMs(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	ctx := context.Background()
	err := st.PutSamples(ctx, []Sample{
		{Host: "luna1", Metric: "temperature", Labels: map[string]string{"sensor": "cpu"}, Value: 40, Time: base},
		{Host: "luna1", Metric: "temperature", Labels: map[string]string{"sensor": "cpu"}, Value: 42.5, Time: base.Add(time.Minute)},
		{Host: "luna1", Metric: "temperature", Labels: map[string]string{"sensor": "psu"}, Value: 30, Time: base},
		{Host: "luna1", Metric: "bad", Value: math.NaN(), Time: base}, // skipped
		{Host: "poll-only", Metric: "up", Value: 1, Time: base},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A late sample does not replace a newer latest value.
	if err := st.PutSamples(ctx, []Sample{{Host: "luna1", Metric: "temperature", Labels: map[string]string{"sensor": "cpu"}, Value: 1, Time: base.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSamples(ctx, []Sample{{Metric: "x"}}); err == nil {
		t.Error("a sample without a host was accepted")
	}
	write(t, st,
		&event.Event{Time: base, Host: "luna1", Level: "critical", Raw: "a"},
		&event.Event{Time: base.Add(2 * time.Minute), Host: "luna1", Level: "critical", Raw: "b"},
		&event.Event{Time: base.Add(time.Minute), Host: "luna1", Level: "info", Raw: "c"},
		&event.Event{Time: base, Host: "luna1", Raw: "d"},
		&event.Event{Time: base, Host: "alarm-only-no", Level: "info", Raw: "e"},
	)
	put(t, st, alarm("luna1", "fan", base, 1), alarm("luna1", "psu", base, 1), alarm("alarm-only", "x", base, 1))
	cl := alarm("luna1", "disk", base, 1)
	cl.Cleared = base.Add(time.Minute)
	put(t, st, cl)

	hsms, err := st.HSMs(ctx, HSMFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hsms {
		names = append(names, h.Host)
	}
	if fmt.Sprint(names) != "[alarm-only alarm-only-no luna1 poll-only]" {
		t.Fatalf("hosts %v", names)
	}
	l := hsms[2]
	if l.Site != "lab" || !l.LastEvent.Equal(base.Add(2*time.Minute)) || l.OpenAlarms != 2 ||
		fmt.Sprint(l.Events) != "map[critical:2 info:1 none:1]" {
		t.Errorf("luna1: %+v", l)
	}
	if len(l.Samples) != 2 {
		t.Fatalf("luna1 samples: %+v", l.Samples)
	}
	cpu := l.Samples[0]
	if cpu.Metric != "temperature" || cpu.Labels["sensor"] != "cpu" || cpu.Value != 42.5 || !cpu.Time.Equal(base.Add(time.Minute)) || cpu.Site != "lab" {
		t.Errorf("latest cpu temperature: %+v", cpu)
	}
	if p := hsms[3]; len(p.Samples) != 1 || p.Samples[0].Labels != nil || p.Samples[0].Value != 1 {
		t.Errorf("poll-only: %+v", p)
	}
	if a := hsms[0]; a.OpenAlarms != 1 || len(a.Events) != 0 {
		t.Errorf("alarm-only: %+v", a)
	}
	if other, err := st.HSMs(ctx, HSMFilter{Site: "elsewhere"}); err != nil || len(other) != 0 {
		t.Errorf("other site: %v %+v", err, other)
	}
}

func (c conformance) testSampleHistory(t *testing.T) {
	dsn := c.newDSN(t)
	st := openStore(t, dsn, "lab")
	other := openStore(t, dsn, "far")
	ctx := context.Background()
	var in []Sample
	for i := range 10 {
		// Written newest first: the history comes back in time order whatever the order
		// of writing.
		at := base.Add(time.Duration(9-i) * time.Minute)
		in = append(in,
			Sample{Host: "luna1", Metric: "memory_used", Value: float64(9 - i), Time: at},
			Sample{Host: "luna1", Metric: "temperature", Labels: map[string]string{"sensor": "cpu"}, Value: 40 + float64(9-i), Time: at},
			Sample{Host: "luna2", Metric: "memory_used", Value: 100, Time: at})
	}
	if err := st.PutSamples(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := other.PutSamples(ctx, []Sample{{Host: "luna1", Metric: "memory_used", Value: -1, Time: base.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	get := func(f SampleFilter) SamplePage {
		t.Helper()
		p, err := st.Samples(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		return p
	}
	values := func(p SamplePage) string {
		var b strings.Builder
		for i, s := range p.Samples {
			if i > 0 && s.Time.Before(p.Samples[i-1].Time) {
				t.Errorf("sample %d goes back in time: %v after %v", i, s.Time, p.Samples[i-1].Time)
			}
			fmt.Fprintf(&b, "%s:%g ", s.Site, s.Value)
		}
		return strings.TrimSpace(b.String())
	}

	p := get(SampleFilter{Host: "luna1", Metric: "memory_used", Site: "lab"})
	if got := values(p); got != "lab:0 lab:1 lab:2 lab:3 lab:4 lab:5 lab:6 lab:7 lab:8 lab:9" || p.Truncated {
		t.Errorf("lab's memory history: %s (truncated %v)", got, p.Truncated)
	}
	if got := values(get(SampleFilter{Host: "luna1", Metric: "memory_used"})); got != "lab:0 far:-1 lab:1 lab:2 lab:3 lab:4 lab:5 lab:6 lab:7 lab:8 lab:9" {
		t.Errorf("all sites' memory history: %s", got)
	}
	// The newest samples of the range, still oldest first.
	p = get(SampleFilter{Host: "luna1", Site: "lab", Metric: "memory_used", Since: base.Add(2 * time.Minute),
		Until: base.Add(8 * time.Minute), Limit: 3})
	if got := values(p); got != "lab:5 lab:6 lab:7" || !p.Truncated {
		t.Errorf("range 2m..8m, limit 3: %s (truncated %v)", got, p.Truncated)
	}
	p = get(SampleFilter{Host: "luna1", Site: "lab", Since: base.Add(9 * time.Minute)})
	if len(p.Samples) != 2 || p.Truncated {
		t.Fatalf("both series at 9m: %+v", p)
	}
	for _, s := range p.Samples {
		if s.Host != "luna1" || !s.Time.Equal(base.Add(9*time.Minute)) {
			t.Errorf("sample %+v", s)
		}
		if s.Metric == "temperature" && (s.Labels["sensor"] != "cpu" || s.Value != 49) {
			t.Errorf("temperature %+v", s)
		}
		if s.Metric == "memory_used" && s.Labels != nil {
			t.Errorf("memory labels %v", s.Labels)
		}
	}
	if p := get(SampleFilter{Host: "nobody"}); len(p.Samples) != 0 || p.Truncated {
		t.Errorf("unknown host: %+v", p)
	}
	for _, f := range []SampleFilter{{}, {Host: "luna1", Limit: -1}, {Host: "luna1", Limit: MaxSampleLimit + 1}} {
		if _, err := st.Samples(ctx, f); !errors.Is(err, ErrBadFilter) {
			t.Errorf("%+v: %v, want ErrBadFilter", f, err)
		}
	}
}

func (c conformance) testRetentionByAge(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	ctx := context.Background()
	now := base
	// Each event is stored when it happened: retention goes by the time of storage.
	for _, ev := range []*event.Event{
		{Time: now.Add(-48 * time.Hour), Host: "h", Raw: "old"},
		{Time: now.Add(-25 * time.Hour), Host: "h", Raw: "old too"},
		{Time: now.Add(-time.Hour), Host: "h", Raw: "new"},
	} {
		st.now = func() time.Time { return ev.Time }
		write(t, st, ev)
	}
	if err := st.PutSamples(ctx, []Sample{
		{Host: "h", Metric: "m", Value: 1, Time: now.Add(-48 * time.Hour)},
		{Host: "h", Metric: "m", Value: 2, Time: now.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	oldOpen := alarm("h", "stuck", now.Add(-100*time.Hour), 1) // never cleared: must stay
	oldCleared := alarm("h", "gone", now.Add(-60*time.Hour), 1)
	oldCleared.Cleared = now.Add(-50 * time.Hour)
	newCleared := alarm("h", "recent", now.Add(-2*time.Hour), 1)
	newCleared.Cleared = now.Add(-time.Hour)
	put(t, st, oldOpen, oldCleared, newCleared)

	p, err := st.Retain(ctx, Retention{MaxAge: 24 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Pruned{Events: 2, Samples: 1, Alarms: 1}) {
		t.Errorf("pruned %+v, want 2 events, 1 sample, 1 alarm", p)
	}
	if evs := all(t, st, EventFilter{}); len(evs) != 1 || evs[0].Event.Raw != "new" {
		t.Errorf("events left: %+v", evs)
	}
	left := alarms(t, st, AlarmFilter{})
	keys := map[string]bool{}
	for _, a := range left {
		keys[a.Key] = true
	}
	if len(left) != 2 || !keys["stuck"] || !keys["recent"] {
		t.Errorf("alarms left: %+v", left)
	}
	var samples int64
	readCount(t, st, "SELECT COUNT(*) FROM samples", &samples)
	if samples != 1 {
		t.Errorf("%d samples left, want 1", samples)
	}
}

func readCount(t *testing.T, st *sqlStore, q string, dst *int64, a ...any) {
	t.Helper()
	err := st.db.read(context.Background(), func(qr querier) error {
		return eachRow(context.Background(), qr, q, a, func(r rows) error { return r.Scan(dst) })
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (c conformance) testRetentionByCount(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	ctx := context.Background()
	var evs []*event.Event
	var samples []Sample
	for i := range 20 {
		evs = append(evs, &event.Event{Time: base.Add(time.Duration(i) * time.Second), Host: "h", Raw: fmt.Sprint(i)})
		samples = append(samples, Sample{Host: "h", Metric: "m", Value: float64(i), Time: base.Add(time.Duration(i) * time.Second)})
	}
	write(t, st, evs...)
	if err := st.PutSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	put(t, st, alarm("h", "open", base.Add(-time.Hour), 1))
	p, err := st.Retain(ctx, Retention{MaxEvents: 5, MaxSamples: 3}, base)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Pruned{Events: 15, Samples: 17}) {
		t.Errorf("pruned %+v", p)
	}
	got := all(t, st, EventFilter{})
	if len(got) != 5 || got[4].Event.Raw != "15" || got[0].Event.Raw != "19" {
		t.Errorf("kept %d events, oldest %q", len(got), got[len(got)-1].Event.Raw)
	}
	if n := len(alarms(t, st, AlarmFilter{Open: true})); n != 1 {
		t.Errorf("%d open alarms after retention, want 1", n)
	}
}

// testRetentionBySize: SQLite bounds the database's pages in use; PostgreSQL bounds the
// site's rows, and another site sharing the database keeps all of its own.
func (c conformance) testRetentionBySize(t *testing.T) {
	dsn := c.newDSN(t)
	st := openStore(t, dsn, "lab")
	ctx := context.Background()
	line := strings.Repeat("x", 1000)
	var recs []component.Record
	for i := range 4000 {
		recs = append(recs, component.Record{Key: fmt.Sprint(i), Event: &event.Event{
			Time: base.Add(time.Duration(i) * time.Second), Host: "h", Raw: fmt.Sprint(i, line)}})
	}
	if _, err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var other *sqlStore
	if c.kind != "sqlite" {
		other = openStore(t, dsn, "other")
		if _, err := other.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if n := len(all(t, other, EventFilter{Site: "other", Limit: MaxLimit})); n != 4000 {
				t.Errorf("the other site kept %d of its 4000 events", n)
			}
		}()
	}
	put(t, st, alarm("h", "open", base.Add(-time.Hour), 1))
	before, err := st.usedBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 20
	if before < 3*limit {
		t.Fatalf("test data too small: %d bytes", before)
	}
	p, err := st.Retain(ctx, Retention{MaxBytes: limit}, base)
	if err != nil {
		t.Fatal(err)
	}
	after, err := st.usedBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after > limit {
		t.Errorf("%d bytes in use after retention, limit %d", after, limit)
	}
	got := all(t, st, EventFilter{Site: "lab", Limit: MaxLimit})
	if len(got) == 0 || int64(len(got))+p.Events != 4000 {
		t.Fatalf("kept %d, pruned %d of 4000", len(got), p.Events)
	}
	if !got[0].Event.Time.Equal(base.Add(3999 * time.Second)) {
		t.Errorf("the newest event was deleted: newest kept %v", got[0].Event.Time)
	}
	if n := len(alarms(t, st, AlarmFilter{Open: true})); n != 1 {
		t.Errorf("%d open alarms after retention, want 1", n)
	}
	t.Logf("size retention: %d -> %d bytes, %d events kept, %d deleted", before, after, len(got), p.Events)
}

// testRenameHost: an HSM first known by its address, then by its name, is one HSM: its
// events and samples move to the name, at this site only.
func (c conformance) testRenameHost(t *testing.T) {
	dsn := c.newDSN(t)
	a, b := openStore(t, dsn, "paris"), openStore(t, dsn, "lyon")
	ctx := context.Background()
	addr := "127.0.0.1:10161"
	for _, st := range []Store{a, b} {
		write(t, st, &event.Event{Time: base, Host: addr, Source: event.SourceSNMPPoll, Level: "major", Message: "HSM does not answer SNMP", Raw: "x"})
		if err := st.PutSamples(ctx, []Sample{{Host: addr, Metric: "m", Value: 1, Time: base}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RenameHost(ctx, addr, "luna1"); err != nil {
		t.Fatal(err)
	}
	hosts := func(st Store) []string {
		hs, err := st.HSMs(ctx, HSMFilter{Site: st.Site()})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hs {
			out = append(out, h.Host)
		}
		return out
	}
	if got := hosts(a); len(got) != 1 || got[0] != "luna1" {
		t.Errorf("paris after the rename: HSMs %v, want [luna1]", got)
	}
	if got := hosts(b); len(got) != 1 || got[0] != addr {
		t.Errorf("lyon's HSM was renamed too: %v", got)
	}
	if evs := all(t, a, EventFilter{Site: "paris", Host: "luna1"}); len(evs) != 1 {
		t.Errorf("paris luna1: %d events, want the address's one", len(evs))
	}
	page, err := a.Samples(ctx, SampleFilter{Host: "luna1", Metric: "m"})
	if err != nil || len(page.Samples) != 1 {
		t.Errorf("luna1's sample history: %+v %v", page, err)
	}
}

func (c conformance) testTwoSites(t *testing.T) {
	dsn := c.newDSN(t)
	a, b := openStore(t, dsn, "paris"), openStore(t, dsn, "lyon")
	a.now = func() time.Time { return base } // stored at base: old by base+24h
	ctx := context.Background()
	// The same input (same idempotency keys) at both sites is two sets of events.
	writeKeyed(t, a, "k1", "k2", "k3")
	writeKeyed(t, b, "k1", "k2", "k3")
	writeKeyed(t, b, "k1") // a re-read at lyon
	if n := len(all(t, a, EventFilter{Site: "paris"})); n != 3 {
		t.Errorf("paris: %d events", n)
	}
	if n := len(all(t, a, EventFilter{Site: "lyon"})); n != 3 {
		t.Errorf("lyon seen from paris: %d events", n)
	}
	if n := len(all(t, b, EventFilter{})); n != 6 {
		t.Errorf("all sites: %d events", n)
	}
	// The same alarm (host and key) at both sites: clearing one leaves the other open.
	put(t, a, alarm("h", "fan", base, 1))
	put(t, b, alarm("h", "fan", base, 1))
	cl := alarm("h", "fan", base, 1)
	cl.Cleared = base.Add(time.Minute)
	put(t, a, cl)
	if open := alarms(t, a, AlarmFilter{Open: true}); len(open) != 1 || open[0].Site != "lyon" {
		t.Errorf("open alarms after paris cleared its own: %+v", open)
	}
	// A repeat at lyon does not touch paris's cleared row.
	rep := alarm("h", "fan", base, 5)
	rep.LastSeen = base.Add(2 * time.Minute)
	put(t, b, rep)
	for _, al := range alarms(t, a, AlarmFilter{}) {
		if al.Site == "paris" && (al.Asserts != 1 || al.Cleared.IsZero()) {
			t.Errorf("paris's alarm changed by lyon: %+v", al)
		}
		if al.Site == "lyon" && al.Asserts != 5 {
			t.Errorf("lyon's repeat lost: %+v", al)
		}
	}
	if h, err := a.HSMs(ctx, HSMFilter{Site: "lyon"}); err != nil || len(h) != 1 || h[0].OpenAlarms != 1 || h[0].Site != "lyon" {
		t.Errorf("hsms of lyon: %v %+v", err, h)
	}
	// Retention at paris deletes only paris's rows, even with limits that would empty
	// the database.
	if err := b.PutSamples(ctx, []Sample{{Host: "h", Metric: "m", Value: 1, Time: base}}); err != nil {
		t.Fatal(err)
	}
	p, err := a.Retain(ctx, Retention{MaxAge: time.Nanosecond, MaxEvents: 1, MaxSamples: 1}, base.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Events != 3 || p.Samples != 0 || p.Alarms != 1 {
		t.Errorf("paris pruned %+v", p)
	}
	if n := len(all(t, b, EventFilter{Site: "lyon"})); n != 3 {
		t.Errorf("lyon lost events to paris's retention: %d left", n)
	}
	if open := alarms(t, b, AlarmFilter{Open: true, Site: "lyon"}); len(open) != 1 {
		t.Errorf("lyon's open alarm: %+v", open)
	}
	var n int64
	readCount(t, b, "SELECT COUNT(*) FROM samples WHERE site = $1", &n, "lyon")
	if n != 1 {
		t.Errorf("lyon's samples: %d", n)
	}
}

func (c conformance) testConcurrentMigration(t *testing.T) {
	dsn := c.newDSN(t)
	const daemons = 4
	stores := make([]Store, daemons)
	errs := make([]error, daemons)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range daemons {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(context.Background(), dsn, Options{Site: fmt.Sprint("site", i), Logger: testLogger(t)})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("daemon %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := loadMigrations(c.kind)
	if err != nil {
		t.Fatal(err)
	}
	var n, versions int64
	st := stores[0].(*sqlStore)
	readCount(t, st, "SELECT COUNT(*) FROM schema_migrations", &n)
	readCount(t, st, "SELECT COUNT(DISTINCT version) FROM schema_migrations", &versions)
	if n != int64(len(ms)) || versions != n {
		t.Errorf("schema_migrations holds %d rows (%d versions), want %d", n, versions, len(ms))
	}
	for i, s := range stores {
		writeKeyed(t, s, "k")
		if got := len(all(t, s, EventFilter{Site: s.Site()})); got != 1 {
			t.Errorf("daemon %d: %d events", i, got)
		}
	}
	// Opening an up-to-date database again applies nothing and succeeds.
	again := openStore(t, dsn, "later")
	readCount(t, again, "SELECT COUNT(*) FROM schema_migrations", &n)
	if n != int64(len(ms)) {
		t.Errorf("reopen: %d rows", n)
	}
}

// testConcurrentUse writes from several goroutines while others query: every write lands
// exactly once and no query fails (SQLite: one writer, readers beside it; PostgreSQL: the
// connection pool shared).
func (c conformance) testConcurrentUse(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	const writers, batches, per = 4, 10, 20
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches+100)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := make([]component.Record, per)
				for i := range recs {
					k := fmt.Sprintf("w%d-b%d-%d", w, b, i)
					recs[i] = component.Record{Key: k, Event: &event.Event{Time: base.Add(time.Duration(b*per+i) * time.Second),
						Host: fmt.Sprint("h", w), Level: "info", Raw: k}}
				}
				// Every batch twice: the second must add nothing.
				for range 2 {
					if _, err := st.Write(ctx, recs); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := st.Events(ctx, EventFilter{MinLevel: "info", Limit: 50}); err != nil {
					errs <- err
					return
				}
				if _, err := st.HSMs(ctx, HSMFilter{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(all(t, st, EventFilter{Limit: MaxLimit})); n != writers*batches*per {
		t.Errorf("%d events stored, want %d", n, writers*batches*per)
	}
}

// testRetentionByIngestTime: events dated 2012 and read today are kept max_age from
// today; events stored long ago go, except the evidence of an alarm still open (its
// asserts since it opened), which goes once the alarm is closed; by size too.
func (c conformance) testRetentionByIngestTime(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	ctx := context.Background()
	today := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old := time.Date(2012, 2, 29, 10, 0, 0, 0, time.UTC)
	assert := func(raw, rule string, at time.Time) *event.Event {
		return &event.Event{Time: at, Host: "lunaA", Rule: rule, Assert: event.True, Raw: raw}
	}
	// Stored 30 days ago: a chatter line, the assert of an alarm still open, the assert
	// of one that closed, and the assert of the open alarm's rule on another host.
	st.now = func() time.Time { return today.Add(-30 * 24 * time.Hour) }
	write(t, st, &event.Event{Time: old, Host: "lunaA", Raw: "chatter"},
		assert("open evidence", "r.fan", old), assert("closed evidence", "r.psu", old),
		&event.Event{Time: old, Host: "lunaB", Rule: "r.fan", Assert: event.True, Raw: "other host"})
	// Stored today: 2012 lines read from an export.
	st.now = func() time.Time { return today }
	write(t, st, &event.Event{Time: old, Host: "lunaA", Raw: "fresh 2012 line"})
	fan := alarm("lunaA", "fan", old, 1)
	psu := alarm("lunaA", "psu", old, 1)
	psu.Cleared = today.Add(-time.Hour)
	put(t, st, fan, psu)

	p, err := st.Retain(ctx, Retention{MaxAge: 7 * 24 * time.Hour}, today)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, e := range all(t, st, EventFilter{}) {
		left[e.Event.Raw] = true
	}
	if p.Events != 3 || len(left) != 2 || !left["fresh 2012 line"] || !left["open evidence"] {
		t.Fatalf("pruned %+v, left %v; want the fresh 2012 line and the open alarm's evidence", p, left)
	}
	// By size (and count) too: the evidence stays while the alarm is open.
	if _, err := st.Retain(ctx, Retention{MaxEvents: 0, MaxBytes: 1}, today); err != nil && c.kind == "sqlite" {
		t.Fatal(err)
	}
	if _, err := st.Retain(ctx, Retention{MaxEvents: 1}, today); err != nil {
		t.Fatal(err)
	}
	left = map[string]bool{}
	for _, e := range all(t, st, EventFilter{}) {
		left[e.Event.Raw] = true
	}
	if !left["open evidence"] {
		t.Fatalf("retention by size or count deleted an open alarm's evidence: %v", left)
	}
	// Closed, the alarm's evidence goes with the next round.
	fan.Cleared = today
	put(t, st, fan)
	if _, err := st.Retain(ctx, Retention{MaxAge: 7 * 24 * time.Hour}, today); err != nil {
		t.Fatal(err)
	}
	for _, e := range all(t, st, EventFilter{}) {
		if e.Event.Raw == "open evidence" {
			t.Fatal("the evidence of a closed alarm outlived retention")
		}
	}
}

// testEachEventStops: EachEvent hands the events of a page one at a time; a refused event
// stops the page, and next continues from that very event (also when nothing was taken),
// so a caller that stops at a byte cap and follows next reads every event once.
func (c conformance) testEachEventStops(t *testing.T) {
	st := openStore(t, c.newDSN(t), "paris")
	var evs []*event.Event
	for i := range 10 {
		// Two events share each timestamp: the cursor must tell them apart by id.
		evs = append(evs, &event.Event{Time: base.Add(time.Duration(i/2) * time.Second), Host: "h", Message: fmt.Sprint("m", i)})
	}
	write(t, st, evs...)
	ctx := context.Background()
	var got []string
	cursor := ""
	for round := 0; ; round++ {
		if round > 30 {
			t.Fatalf("no end after %d rounds: %v", round, got)
		}
		taken := 0
		next, err := st.EachEvent(ctx, EventFilter{Limit: 4, Cursor: cursor}, func(se StoredEvent) (bool, error) {
			// Refuse the first event of every third round (nothing taken), else the
			// third event of a round.
			if (round%3 == 2 && taken == 0) || taken == 2 {
				return false, nil
			}
			taken++
			got = append(got, se.Event.Message)
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"m9", "m8", "m7", "m6", "m5", "m4", "m3", "m2", "m1", "m0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read %v, want %v", got, want)
	}
	// A page taken whole ends with the cursor of its last event, as Events gives it.
	page, err := st.Events(ctx, EventFilter{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	next, err := st.EachEvent(ctx, EventFilter{Limit: 4}, func(StoredEvent) (bool, error) { return true, nil })
	if err != nil || next != page.Next || next == "" {
		t.Errorf("next %q, %v; Events' next %q", next, err, page.Next)
	}
}

// testEventCounts: the fleet overview's counts (event_counts) follow what the store holds:
// a replayed record is not counted twice, retention takes its deletes off, a renamed host
// takes its counts along, and each count matches a COUNT(*) over the events.
func (c conformance) testEventCounts(t *testing.T) {
	st := openStore(t, c.newDSN(t), "lab")
	ctx := context.Background()
	var recs []component.Record
	for i := range 30 {
		level := []string{"info", "major", "critical"}[i%3]
		recs = append(recs, component.Record{Key: fmt.Sprint("k", i), Event: &event.Event{
			Time: base.Add(time.Duration(i) * time.Second), Host: []string{"10.0.0.7", "web01"}[i%2], Level: level, Raw: fmt.Sprint(i)}})
	}
	for range 2 { // the second write is a replay: nothing new to count
		if _, err := st.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		hs, err := st.HSMs(ctx, HSMFilter{Site: "lab"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[string]int64{}
		for _, h := range hs {
			got[h.Host] = h.Events
		}
		want := map[string]map[string]int64{}
		for _, e := range all(t, st, EventFilter{Site: "lab", Limit: MaxLimit}) {
			if want[e.Event.Host] == nil {
				want[e.Event.Host] = map[string]int64{}
			}
			want[e.Event.Host][e.Event.Level]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: counts %v, the events say %v", when, got, want)
		}
	}
	check("after a write and its replay")
	if p, err := st.Retain(ctx, Retention{MaxEvents: 10}, base); err != nil || p.Events != 20 {
		t.Fatalf("retention: %+v, %v", p, err)
	}
	check("after retention")
	if err := st.RenameHost(ctx, "10.0.0.7", "luna1"); err != nil {
		t.Fatal(err)
	}
	check("after a rename")
	hs, err := st.HSMs(ctx, HSMFilter{Site: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Host == "10.0.0.7" {
			t.Errorf("the renamed address is still an HSM of its own: %+v", h)
		}
		if h.Host == "luna1" && !h.LastEvent.Equal(base.Add(29*time.Second)) && !h.LastEvent.Equal(base.Add(28*time.Second)) {
			t.Errorf("luna1's last event %v", h.LastEvent)
		}
	}
}

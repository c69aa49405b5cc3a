package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// send makes a request with a JSON body (and an actor header unless actor is "") and
// decodes the answer into v (when not nil).
func (f *fixture) send(t *testing.T, method, path, actor, body string, v any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if actor != "" {
		req.Header.Set(ActorHeader, actor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

type alarmList struct {
	Alarms []struct {
		ID           int64         `json:"id"`
		Host         string        `json:"host"`
		Key          string        `json:"key"`
		Level        string        `json:"level"`
		Opened       time.Time     `json:"opened"`
		Acknowledged *store.Action `json:"acknowledged"`
		Closed       *store.Action `json:"closed"`
		Silenced     string        `json:"silenced"`
		Stale        bool          `json:"stale"`
	} `json:"alarms"`
}

func (f *fixture) alarms(t *testing.T, query string) alarmList {
	t.Helper()
	code, b := f.get(t, "/api/alarms?"+query)
	if code != http.StatusOK {
		t.Fatalf("alarms?%s: %d %s", query, code, b)
	}
	var l alarmList
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAcknowledgeAndClose(t *testing.T) {
	f := newFixture(t)
	l := f.alarms(t, "site=paris")
	if len(l.Alarms) != 1 || l.Alarms[0].Host != "luna1" || l.Alarms[0].Acknowledged != nil || l.Alarms[0].Stale {
		t.Fatalf("paris's open alarms: %+v", l)
	}
	id := l.Alarms[0].ID
	var got store.Alarm
	code, body := f.send(t, "POST", "/api/alarms/"+itoa(id)+"/ack", "alice", `{"comment":"replacing the fan"}`, &got)
	if code != http.StatusOK || got.Acknowledged == nil || got.Acknowledged.By != "alice" ||
		got.Acknowledged.Comment != "replacing the fan" || !got.Acknowledged.At.Equal(base.Add(30*time.Minute)) {
		t.Fatalf("ack: %d %s", code, body)
	}
	if l := f.alarms(t, "state=acknowledged"); len(l.Alarms) != 1 || l.Alarms[0].ID != id {
		t.Errorf("state=acknowledged: %+v", l)
	}
	// The actor from the body when no header says it.
	code, body = f.send(t, "POST", "/api/alarms/"+itoa(id)+"/ack", "", `{"by":"bob"}`, &got)
	if code != http.StatusOK || got.Acknowledged.By != "bob" {
		t.Errorf("ack by body: %d %s", code, body)
	}

	for _, tc := range []struct {
		method, path, actor, body string
		code                      int
		field                     string
	}{
		{"POST", "/api/alarms/" + itoa(id) + "/ack", "", `{"comment":"x"}`, 400, "by"},
		{"POST", "/api/alarms/abc/ack", "alice", `{}`, 400, "id"},
		{"POST", "/api/alarms/" + itoa(id) + "/ack", "alice", `{"coment":"x"}`, 400, "coment"},
		{"POST", "/api/alarms/" + itoa(id) + "/ack", "alice", `{"comment":5}`, 400, "comment"},
		{"POST", "/api/alarms/" + itoa(id) + "/ack", "alice", `{`, 400, "body"},
		{"POST", "/api/alarms/" + itoa(id) + "/close", "alice", `{}`, 400, "comment"},
		{"POST", "/api/alarms/999999/ack", "alice", `{}`, 404, ""},
		{"GET", "/api/alarms/" + itoa(id) + "/ack", "alice", ``, 405, ""},
	} {
		code, body := f.send(t, tc.method, tc.path, tc.actor, tc.body, nil)
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(body), &e)
		if code != tc.code || (tc.field != "" && !strings.HasPrefix(e.Error, tc.field+":")) {
			t.Errorf("%s %s %s: %d %s, want %d naming %q", tc.method, tc.path, tc.body, code, body, tc.code, tc.field)
		}
	}

	// Close by hand: no longer open, cleared by the operator; acknowledging it is a 409.
	code, body = f.send(t, "POST", "/api/alarms/"+itoa(id)+"/close", "carol", `{"comment":"the clear trap was lost"}`, &got)
	if code != http.StatusOK || got.Closed == nil || got.Closed.By != "carol" || got.ClearedBy != store.ClearedByOperator || got.Cleared.IsZero() {
		t.Fatalf("close: %d %s", code, body)
	}
	if l := f.alarms(t, "site=paris"); len(l.Alarms) != 0 {
		t.Errorf("still open after the close: %+v", l)
	}
	if code, body := f.send(t, "POST", "/api/alarms/"+itoa(id)+"/ack", "alice", `{}`, nil); code != http.StatusConflict {
		t.Errorf("ack of a closed alarm: %d %s", code, body)
	}
}

func TestAlarmFiltersAndSort(t *testing.T) {
	f := newFixture(t)
	// paris: luna1/fan critical opened at base (30m ago); add two more open alarms.
	if err := f.store.PutAlarms(t.Context(), []state.Alarm{
		{Host: "luna3", Key: "old", Rule: "ipmi.temp", Level: "minor", Opened: base.Add(-2 * time.Hour), LastSeen: base, Asserts: 1},
		{Host: "luna4", Key: "new", Rule: "ntls.down", Level: "major", Opened: base.Add(10 * time.Minute), LastSeen: base, Asserts: 1},
	}); err != nil {
		t.Fatal(err)
	}
	keys := func(l alarmList) string {
		var ks []string
		for _, a := range l.Alarms {
			ks = append(ks, a.Key)
		}
		return strings.Join(ks, ",")
	}
	for q, want := range map[string]string{
		"site=paris&sort=age":            "old,fan,new",
		"site=paris&sort=level":          "fan,new,old",
		"site=paris&level=major":         "fan,new",
		"site=paris&state=stale":         "old",
		"site=paris&host=luna4":          "new",
		"site=paris&state=open&sort=age": "old,fan,new",
	} {
		if got := keys(f.alarms(t, q)); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	if l := f.alarms(t, "site=paris&host=luna3"); len(l.Alarms) != 1 || !l.Alarms[0].Stale {
		t.Errorf("luna3's alarm is open for 2h30, stale after 1h: %+v", l)
	}

	// A silence of luna4's rule, and a maintenance window of luna3 right now (Sunday
	// 1 March 2026, 12:30 UTC).
	var si store.Silence
	code, body := f.send(t, "POST", "/api/silences", "alice", `{"rule":"ntls.*","duration":"2h","comment":"NTLS upgrade"}`, &si)
	if code != http.StatusCreated || si.ID == 0 || !si.Ends.Equal(base.Add(150*time.Minute)) || si.CreatedBy != "alice" {
		t.Fatalf("add silence: %d %s", code, body)
	}
	var m store.Maintenance
	code, body = f.send(t, "POST", "/api/maintenance", "bob",
		`{"host":"luna3","weekdays":["sun"],"start":"12:00","duration":"1h","zone":"UTC","comment":"backup"}`, &m)
	if code != http.StatusCreated || m.ID == 0 || m.Weekdays[0] != "sun" {
		t.Fatalf("add maintenance: %d %s", code, body)
	}
	l := f.alarms(t, "site=paris&state=silenced&sort=age")
	if keys(l) != "old,new" || l.Alarms[0].Silenced != "maintenance "+itoa(m.ID) || l.Alarms[1].Silenced != "silence "+itoa(si.ID) {
		t.Errorf("silenced alarms: %+v", l)
	}
	var ss struct{ Silences []store.Silence }
	if code, body := f.send(t, "GET", "/api/silences", "", "", &ss); code != 200 || len(ss.Silences) != 1 {
		t.Errorf("silences: %d %s", code, body)
	}
	if code, body := f.send(t, "DELETE", "/api/silences/"+itoa(si.ID), "carol", "", &si); code != 200 || si.ExpiredBy != "carol" {
		t.Errorf("expire: %d %s", code, body)
	}
	if code, body := f.send(t, "GET", "/api/silences", "", "", &ss); code != 200 || len(ss.Silences) != 0 {
		t.Errorf("silences after the expiry: %d %s", code, body)
	}
	if code, body := f.send(t, "DELETE", "/api/maintenance/"+itoa(m.ID), "carol", "", nil); code != 200 {
		t.Errorf("delete window: %d %s", code, body)
	}
	if got := keys(f.alarms(t, "site=paris&state=silenced")); got != "" {
		t.Errorf("silenced after both ended: %s", got)
	}

	for _, tc := range []struct{ path, body, field string }{
		{"/api/silences", `{"duration":"2h","comment":"x"}`, "host"},
		{"/api/silences", `{"host":"h","comment":"x"}`, "ends"},
		{"/api/silences", `{"host":"h","duration":"soon","comment":"x"}`, "duration"},
		{"/api/silences", `{"host":"h","starts":"today","duration":"1h","comment":"x"}`, "starts"},
		{"/api/silences", `{"host":"h","duration":"1h"}`, "comment"},
		{"/api/silences", `{"host":"[","duration":"1h","comment":"x"}`, "host"},
		{"/api/maintenance", `{"host":"h","start":"25:00","duration":"1h"}`, "start"},
		{"/api/maintenance", `{"host":"h","start":"01:00","duration":"1h","weekdays":["someday"]}`, "weekdays"},
		{"/api/maintenance", `{"host":"h","start":"01:00","duration":"1h","zone":"Nowhere/Land"}`, "zone"},
		{"/api/maintenance", `{"host":"h","start":"01:00"}`, "duration"},
	} {
		code, body := f.send(t, "POST", tc.path, "alice", tc.body, nil)
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(body), &e)
		if code != http.StatusBadRequest || !strings.HasPrefix(e.Error, tc.field+":") {
			t.Errorf("POST %s %s: %d %s, want 400 naming %q", tc.path, tc.body, code, body, tc.field)
		}
	}
	if code, _ := f.send(t, "DELETE", "/api/silences/424242", "alice", "", nil); code != http.StatusNotFound {
		t.Errorf("expire an unknown silence: %d", code)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

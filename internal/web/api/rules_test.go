package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

func TestRules(t *testing.T) {
	f := newFixture(t)
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	var want *classify.Rule
	for _, r := range cat.Rules() {
		if r.Meaning != "" && r.Action != "" {
			want = r
			break
		}
	}
	if want == nil {
		t.Fatal("no shipped rule has a meaning and an action")
	}
	srv := httptest.NewServer(New(f.store, Options{Rules: cat, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	get := func(srvURL, id string) (int, map[string]string) {
		t.Helper()
		resp, err := http.Get(srvURL + "/api/rules/" + url.PathEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v: %s", id, err, b)
		}
		return resp.StatusCode, m
	}
	code, got := get(srv.URL, want.ID)
	if code != http.StatusOK || got["id"] != want.ID || got["title"] != want.Title || got["level"] != want.Level ||
		got["meaning"] != want.Meaning || got["action"] != want.Action || got["component"] != want.Component ||
		got["class"] != want.Class {
		t.Errorf("rule %s: %d %v", want.ID, code, got)
	}
	if _, ok := got["match"]; ok {
		t.Errorf("the rule's matching is not the client's business: %v", got)
	}
	if code, got := get(srv.URL, "no.such.rule"); code != http.StatusNotFound || got["error"] == "" {
		t.Errorf("unknown rule: %d %v", code, got)
	}
	// Without a catalog (the fixture's handler) every rule is unknown.
	if code, _ := get(f.srv.URL, want.ID); code != http.StatusNotFound {
		t.Errorf("no catalog: %d", code)
	}
}

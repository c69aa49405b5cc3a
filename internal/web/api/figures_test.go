package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// TestFigureTable: every kind names three to five figures, each with a label and at
// least one metric; a figure with thresholds has them in the order of its side (the
// critical beyond the warning); every health item a figure names is one the poll
// profiles define (internal/snmp/poller/profiles.yaml), so that its verdict is found.
func TestFigureTable(t *testing.T) {
	profiles, err := os.ReadFile(filepath.Join("..", "..", "snmp", "poller", "profiles.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range figureKinds() {
		if n := len(k.Figures); n < 3 || n > 6 {
			t.Errorf("kind %s: %d figures", k.ID, n)
		}
		if len(k.Detect) == 0 || k.Label == "" {
			t.Errorf("kind %s: no label or no metric to know it by", k.ID)
		}
		for _, f := range k.Figures {
			if f.Label == "" || len(f.Metrics) == 0 {
				t.Errorf("kind %s figure %s: no label or metric", k.ID, f.ID)
			}
			if f.Warn != nil && f.Crit != nil && (f.Below && *f.Crit > *f.Warn || !f.Below && *f.Crit < *f.Warn) {
				t.Errorf("kind %s figure %s: critical %v is not beyond warning %v", k.ID, f.ID, *f.Crit, *f.Warn)
			}
			if f.Health != "" && !strings.Contains(string(profiles), "id: "+f.Health+"\n") {
				t.Errorf("kind %s figure %s: the poll profiles define no health item %q", k.ID, f.ID, f.Health)
			}
		}
	}
}

func TestKindOf(t *testing.T) {
	kinds := figureKinds()
	for _, c := range []struct {
		metrics []string
		want    string
	}{
		{[]string{"memAvailReal", "ntlsOperStatus"}, "luna"},
		{[]string{"health_memory_used", "health_hsm_storage_used"}, "luna"},
		{[]string{"health_memory_used", "hsmCryptoBattery"}, "dinamo"},
		{[]string{"pkcs11_max_rw_sessions"}, ""},
		{[]string{"pkcs11_token_status"}, "pkcs11"},
		{[]string{"health_memory_used"}, "snmp"},
		{nil, ""},
	} {
		var ss []store.Sample
		for _, m := range c.metrics {
			ss = append(ss, store.Sample{Metric: m})
		}
		if got := kindOf(kinds, ss); got != c.want {
			t.Errorf("kindOf(%v) = %q, want %q", c.metrics, got, c.want)
		}
	}
}

// TestHSMsKindAndToken: /api/hsms names each HSM's kind, and says of a PKCS#11 slot
// without label or serial that it is uninitialised.
func TestHSMsKindAndToken(t *testing.T) {
	f := newFixture(t)
	const lib = "/usr/lib/softhsm/libsofthsm2.so"
	err := f.store.PutSamples(t.Context(), []store.Sample{
		{Host: "tok1", Metric: "pkcs11_token_status", Labels: map[string]string{"library": lib, "slot": "1", "serial": "ab12"}, Time: base},
		{Host: lib + ":slot2", Metric: "pkcs11_token_status", Labels: map[string]string{"library": lib, "slot": "2", "serial": ""}, Time: base},
		{Host: "dinamo1", Metric: "hsmCryptoBattery", Value: 90, Time: base},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, b := f.get(t, "/api/hsms?site=paris")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var body struct {
		HSMs []struct {
			Host  string     `json:"host"`
			Kind  string     `json:"kind"`
			Token *tokenView `json:"token"`
		} `json:"hsms"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range body.HSMs {
		s := h.Kind
		if h.Token != nil {
			s += " " + h.Token.Library + " slot " + h.Token.Slot
			if h.Token.Uninitialised {
				s += " uninitialised"
			}
		}
		got[h.Host] = s
	}
	want := map[string]string{
		"tok1":         "pkcs11 " + lib + " slot 1",
		lib + ":slot2": "pkcs11 " + lib + " slot 2 uninitialised",
		"dinamo1":      "dinamo",
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s: %q, want %q", h, got[h], w)
		}
	}
	code, b = f.get(t, "/api/figures")
	if code != http.StatusOK || !strings.Contains(string(b), `"hsmManuallyZeroized":{"1":"true","2":"false"}`) {
		t.Errorf("/api/figures: %d %.300s", code, b)
	}
}

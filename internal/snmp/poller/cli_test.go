package poller_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

// SetStorage gives every storage item the ranges, except one --threshold names.
func TestSetStorage(t *testing.T) {
	keep := "1"
	o := poller.Options{Thresholds: map[string]poller.Thresholds{}}
	var storage []string
	for _, p := range poller.ShippedProfiles() {
		for _, h := range p.Health {
			if h.Storage {
				storage = append(storage, h.ID)
			}
		}
	}
	if len(storage) < 2 {
		t.Fatalf("the shipped profiles have storage items: %v", storage)
	}
	o.Thresholds[storage[0]] = poller.Thresholds{Warn: &keep}
	o.SetStorage("70", "")
	for _, id := range storage[1:] {
		if id == storage[0] {
			continue // the anchor of the Luna profiles repeats it
		}
		th := o.Thresholds[id]
		if th.Warn == nil || *th.Warn != "70" || th.Crit != nil {
			t.Errorf("%s: %+v", id, th)
		}
	}
	if th := o.Thresholds[storage[0]]; *th.Warn != "1" {
		t.Errorf("--threshold was overridden: %+v", th)
	}
	var none poller.Options
	if none.SetStorage("", ""); none.Thresholds != nil {
		t.Errorf("no range, no thresholds: %+v", none.Thresholds)
	}
}

func TestWriteText(t *testing.T) {
	r := &poller.Result{Target: "udp://hsm:161", State: "warning", Items: []poller.Item{
		{Title: "battery", Text: "40%", Warn: "50:", State: poller.StateWarning},
		{Title: "rate", Instance: "p1", State: poller.StatePending, Reason: "needs two readings"},
	}, Notes: []string{"a note"}}
	var b strings.Builder
	r.WriteText(&b)
	for _, want := range []string{"target  udp://hsm:161\n", "health  WARNING\n", "warning  battery      40%                 50:   -\n",
		"pending  rate p1      needs two readings  -     -\n", "\nNotes\n  a note\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// The state file is optional: "" does nothing, a file that cannot be written is a note.
func TestStateFileNotes(t *testing.T) {
	p, err := poller.New(poller.Options{Target: poller.Target{Addr: "127.0.0.1:1", Community: "public"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n := p.RestoreFile(""); n != "" {
		t.Errorf("no file: %q", n)
	}
	if n := p.RestoreFile(filepath.Join(t.TempDir(), "none.json")); n != "" {
		t.Errorf("a first run has no file: %q", n)
	}
	if n := p.SaveFile(filepath.Join(t.TempDir(), "no", "such", "dir", "s.json")); !strings.HasPrefix(n, "state file not saved: ") {
		t.Errorf("got %q", n)
	}
}

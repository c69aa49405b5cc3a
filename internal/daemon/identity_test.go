package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/source/poll"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestUnnamedHSMIsOneFleetRow: an HSM polled without a name that does not answer at
// start, then answers, is one HSM in what the dashboard reads: /api/hsms lists its name
// only (no row for its address), and its no-answer alarm opened under the address is
// closed by the recovery, none left open.
func TestUnnamedHSMIsOneFleetRow(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close() // nothing answers there until the simulated HSM starts
	secrets := map[string]string{"AUTH": "ops-auth-pass", "PRIV": "ops-priv-pass"}
	dir := t.TempDir()
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "poll", Spec: &poll.Spec{Host: addr, Profile: "luna-network",
			Interval: config.Duration(100 * time.Millisecond), Timeout: config.Duration(200 * time.Millisecond), Retries: new(int),
			User: &config.SNMPUser{Name: "ops", AuthProto: "SHA", AuthPassEnv: "AUTH", PrivProto: "AES", PrivPassEnv: "PRIV"}}})}
	d, stop := runDaemon(t, Options{Config: cfg, Getenv: func(k string) string { return secrets[k] }})
	defer stop()
	type hsms struct {
		HSMs []struct {
			Host       string `json:"host"`
			OpenAlarms int64  `json:"open_alarms"`
		} `json:"hsms"`
	}
	get := func() hsms {
		resp, err := http.Get("http://" + d.Addr().String() + "/api/hsms")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h hsms
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil {
			t.Fatalf("/api/hsms: status %d", resp.StatusCode)
		}
		return h
	}
	testutil.WaitFor(t, "the no-answer alarm under the address", 20*time.Second, func() bool {
		h := get()
		return len(h.HSMs) == 1 && h.HSMs[0].Host == addr && h.HSMs[0].OpenAlarms == 1
	})

	const name = "luna-late"
	no := false
	fleet, err := sim.NewFleet(&sim.FleetConfig{Seed: 1, Activity: &no, HSMs: []sim.HSMConfig{
		{Vendor: sim.VendorLuna, Addr: addr, Hostname: name,
			Users: []sim.UserConfig{{Name: "ops", Auth: "SHA", AuthPass: secrets["AUTH"], Priv: "AES", PrivPass: secrets["PRIV"]}}},
	}}, sim.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-fleetDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("fleet: %v", err)
		}
	}()
	testutil.WaitFor(t, "one fleet row, the name, no alarm open", 20*time.Second, func() bool {
		h := get()
		return len(h.HSMs) == 1 && h.HSMs[0].Host == name && h.HSMs[0].OpenAlarms == 0
	})
}

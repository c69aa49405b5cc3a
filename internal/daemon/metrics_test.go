package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hsmwatch/hsmwatch"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
	"github.com/hsmwatch/hsmwatch/internal/source/poll"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestMetricsScrape: a daemon polling a simulated Luna and a simulated Dinamo (the
// shipped MIBs loaded) and probing a SoftHSM2 token serves /metrics with 200 once each
// has been polled or probed: hsmUpTime is a counter of the Luna (Counter64) and seconds of
// the Dinamo (TimeTicks) under two names, the build information is there, no series was
// left out, and promtool finds nothing to say about the exposition.
func TestMetricsScrape(t *testing.T) {
	promtool := testutil.NeedTool(t, "promtool", "prometheus")
	soft := p11test.NewSoftHSM(t)
	soft.InitToken(t, "metrics-token", "12345678", "1234")
	t.Setenv("SOFTHSM2_CONF", soft.Conf)

	dir := t.TempDir()
	mibDir, err := hsmwatch.ExtractMIBs(filepath.Join(dir, "mibs"))
	if err != nil {
		t.Fatal(err)
	}
	agents, err := freeUDPPorts(2)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"COMMUNITY": "public", "AUTH": "metrics-auth-pass", "PRIV": "metrics-priv-pass"}
	const dinamoSerial, lunaHost = "TCA0000077", "luna-metrics"
	every := config.Duration(time.Second)
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), MIBs: []string{mibDir},
		HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t,
			config.Item{Kind: "poll", Spec: &poll.Spec{Host: agents[0], Profile: "auto", CommunityEnv: "COMMUNITY", Interval: every}},
			config.Item{Kind: "poll", Spec: &poll.Spec{Host: agents[1], Profile: "auto", Interval: every, User: &config.SNMPUser{Name: "ops",
				AuthProto: "SHA", AuthPassEnv: "AUTH", PrivProto: "AES", PrivPassEnv: "PRIV"}}},
			config.Item{Kind: "pkcs11", Spec: &pkcs11probe.Spec{Library: soft.Lib, Interval: config.Duration(time.Second)}})}
	d, stop := runDaemon(t, Options{Config: cfg, Getenv: func(k string) string { return secrets[k] }})

	no := false
	fleet, err := sim.NewFleet(&sim.FleetConfig{Seed: 1, Activity: &no, HSMs: []sim.HSMConfig{
		{Vendor: sim.VendorDinamo, Addr: agents[0], Serial: dinamoSerial},
		{Vendor: sim.VendorLuna, Addr: agents[1], Hostname: lunaHost,
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

	// Polled and probed at least once each: both HSMs' figures and the token's are there,
	// and the probe of the SoftHSM2 library was done without a failure.
	var mfs map[string]*dto.MetricFamily
	var body []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, mfs = scrapeFamilies(t, d)
		probes, failures := seriesValue(mfs, "hsmwatch_pkcs11_probes_total", "source", "pkcs11:"+soft.Lib),
			seriesValue(mfs, "hsmwatch_pkcs11_probe_failures_total", "source", "pkcs11:"+soft.Lib)
		if seriesValue(mfs, "hsmwatch_hsm_hsm_up_time_total", "host", lunaHost) >= 0 &&
			seriesValue(mfs, "hsmwatch_hsm_hsm_up_time_seconds", "host", dinamoSerial) >= 0 && probes >= 1 &&
			seriesValue(mfs, "hsmwatch_hsm_pkcs11_max_sessions", "host", "metrics-token") >= 0 {
			if failures != 0 {
				t.Fatalf("the SoftHSM2 probe failed:\n%s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not polled and probed within 30s:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for name, want := range map[string]dto.MetricType{
		"hsmwatch_hsm_hsm_up_time_total":       dto.MetricType_COUNTER, // the Luna's Counter64
		"hsmwatch_hsm_hsm_up_time_seconds":     dto.MetricType_GAUGE,   // the Dinamo's TimeTicks
		"hsmwatch_hsm_sys_up_time_seconds":     dto.MetricType_GAUGE,
		"hsmwatch_hsm_mem_avail_real_bytes":    dto.MetricType_GAUGE, // UCD-SNMP-MIB, kB
		"hsmwatch_hsm_health_cpu_load_percent": dto.MetricType_GAUGE,
		"hsmwatch_hsm_pkcs11_max_sessions":     dto.MetricType_GAUGE, // the SoftHSM2 token
		"hsmwatch_build_info":                  dto.MetricType_GAUGE,
		"hsmwatch_collector_errors_total":      dto.MetricType_COUNTER,
	} {
		if mf := mfs[name]; mf == nil || mf.GetType() != want {
			t.Errorf("%s: %v, want a %v", name, mf, want)
		}
	}
	if mf := mfs["hsmwatch_hsm_hsm_up_time_seconds"]; mf != nil && !strings.Contains(mf.GetHelp(), "switched on") {
		t.Errorf("Dinamo hsmUpTime's help is not its DESCRIPTION: %q", mf.GetHelp())
	}
	if v := seriesValue(mfs, "hsmwatch_build_info", "", ""); v != 1 {
		t.Errorf("hsmwatch_build_info = %v", v)
	}
	if v := seriesValue(mfs, "hsmwatch_collector_errors_total", "", ""); v != 0 {
		t.Errorf("hsmwatch_collector_errors_total = %v: series were left out", v)
	}

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	stop()
}

// scrapeFamilies GETs /metrics, asserts 200 and parses the body with Prometheus' text
// parser.
func scrapeFamilies(t *testing.T, d *Daemon) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d:\n%s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return body, mfs
}

// seriesValue is the value of the first series of name whose label is value (any series
// when label is ""); -1 when there is none.
func seriesValue(mfs map[string]*dto.MetricFamily, name, label, value string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
	for _, m := range mf.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				match = true
			}
		}
		if !match {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		}
		return m.GetUntyped().GetValue()
	}
	return -1
}

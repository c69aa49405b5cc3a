package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

// The exporter gets a module per vendor that asks for what hsmwatch's profile asks for:
// the same scalars in Get requests, the same tables walked, every numeric object and
// every DisplayString as a metric. The module is written from the profile and the
// loaded MIB, so both ask for the same OIDs.

type exporterModule struct {
	Version        int               `yaml:"version"`
	Auth           map[string]string `yaml:"auth"`
	MaxRepetitions int               `yaml:"max_repetitions"`
	Retries        int               `yaml:"retries"`
	Timeout        string            `yaml:"timeout"`
	Get            []string          `yaml:"get,omitempty"`
	Walk           []string          `yaml:"walk,omitempty"`
	Metrics        []exporterMetric  `yaml:"metrics"`
}

type exporterMetric struct {
	Name    string          `yaml:"name"`
	OID     string          `yaml:"oid"`
	Type    string          `yaml:"type"`
	Help    string          `yaml:"help"`
	Indexes []exporterIndex `yaml:"indexes,omitempty"`
}

type exporterIndex struct {
	Labelname string `yaml:"labelname"`
	Type      string `yaml:"type"`
}

// tableIndexes are the INDEX clauses of the walked tables (DisplayString serials).
var tableIndexes = map[string][]exporterIndex{
	"hsmTable":          {{"hsmSerialNumber", "DisplayString"}},
	"hsmPartitionTable": {{"hsmSerialNumber", "DisplayString"}, {"hsmPartitionSerialNumber", "DisplayString"}},
}

func metricType(e *mib.Entry) string {
	switch {
	case e.Syntax == "DisplayString":
		return "DisplayString"
	case strings.Contains(e.Syntax, "Counter"):
		return "counter"
	case strings.Contains(e.Syntax, "OBJECT IDENTIFIER"), strings.Contains(e.Syntax, "OCTET"):
		return ""
	}
	return "gauge"
}

func exporterModuleFor(p *poller.Profile, tb *mib.Table, auth map[string]string, version int) (exporterModule, error) {
	m := exporterModule{Version: version, Auth: auth, MaxRepetitions: 25, Retries: 1, Timeout: "5s"}
	byName := map[string]*mib.Entry{}
	if p.Root != "" {
		for _, e := range tb.Entries() {
			if strings.HasPrefix(e.OID, p.Root+".") {
				byName[e.Name] = e
			}
		}
	}
	resolve := func(ref string) (*mib.Entry, error) {
		if !strings.Contains(ref, "::") {
			if e := byName[ref]; e != nil {
				return e, nil
			}
			return nil, fmt.Errorf("%s: not in the MIBs", ref)
		}
		oid, ok := tb.Resolve(ref)
		e, _, found := tb.Lookup(oid)
		if !ok || !found {
			return nil, fmt.Errorf("%s: not in the MIBs", ref)
		}
		return e, nil
	}
	for _, ref := range p.Scalars {
		e, err := resolve(ref)
		if err != nil {
			return m, err
		}
		oid := strings.TrimPrefix(e.OID, ".")
		m.Get = append(m.Get, oid+".0")
		if t := metricType(e); t != "" {
			m.Metrics = append(m.Metrics, exporterMetric{Name: e.Name, OID: oid, Type: t, Help: e.FullName()})
		}
	}
	for _, ref := range p.Tables {
		e, err := resolve(ref)
		if err != nil {
			return m, err
		}
		m.Walk = append(m.Walk, strings.TrimPrefix(e.OID, "."))
		for _, c := range tb.Entries() {
			if c.Kind == mib.KindColumn && strings.HasPrefix(c.OID, e.OID+".1.") {
				if t := metricType(c); t != "" {
					m.Metrics = append(m.Metrics, exporterMetric{Name: c.Name, OID: strings.TrimPrefix(c.OID, "."), Type: t,
						Help: c.FullName(), Indexes: tableIndexes[e.Name]})
				}
			}
		}
	}
	return m, nil
}

// measureExporter writes the modules, runs the exporter on a free port and scrapes every
// device once per round.
func measureExporter(ctx context.Context, devs []device, conc, rounds int, fleetCPU func() time.Duration) (result, error) {
	bin, err := exec.LookPath("prometheus-snmp-exporter")
	if err != nil {
		return result{}, errors.New("prometheus-snmp-exporter is not installed (Debian package prometheus-snmp-exporter)")
	}
	tb := mib.Builtin()
	if err := tb.Load("mibs"); err != nil {
		return result{}, err
	}
	ps := poller.ShippedProfiles()
	luna, err := exporterModuleFor(ps[poller.ProfileLunaNetwork], tb, map[string]string{"username": benchUser,
		"security_level": "authPriv", "password": benchAuth, "auth_protocol": "SHA", "priv_protocol": "AES", "priv_password": benchPriv}, 3)
	if err != nil {
		return result{}, err
	}
	dinamo, err := exporterModuleFor(ps[poller.ProfileDinamo], tb, map[string]string{"community": "public"}, 2)
	if err != nil {
		return result{}, err
	}
	dir, err := os.MkdirTemp("", "snmppoll-bench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "snmp.yml")
	data, err := yaml.Marshal(map[string]exporterModule{"luna": luna, "dinamo": dinamo})
	if err != nil {
		return result{}, err
	}
	if err := os.WriteFile(conf, data, 0o600); err != nil {
		return result{}, err
	}
	if out, err := exec.CommandContext(ctx, bin, "--config.file="+conf, "--dry-run").CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("the exporter refuses the configuration: %v: %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	listen := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--web.listen-address="+listen, "--log.level=error")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: 30 * time.Second}
	if err := waitHTTP(ctx, client, "http://"+listen+"/"); err != nil {
		return result{}, err
	}
	var values atomic.Int64
	scrape := func(ctx context.Context, i int) error {
		d := devs[i]
		u := "http://" + listen + "/snmp?" + url.Values{"module": {d.vendor}, "target": {d.addr}}.Encode()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("scrape %s: %s: %s", d.addr, resp.Status, b)
		}
		n := 0
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if l := sc.Text(); l != "" && l[0] != '#' && !strings.HasPrefix(l, "snmp_scrape_") {
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("scrape %s: no metrics", d.addr)
		}
		values.Add(int64(n))
		return sc.Err()
	}
	// one scrape of each device first (the exporter's first walk of a module), then
	// the measured rounds
	if err := pool(ctx, len(devs), conc, scrape); err != nil {
		return result{}, err
	}
	values.Store(0)
	fleet0, t0 := fleetCPU(), time.Now()
	cpu0, _ := proc.CPU(cmd.Process.Pid)
	for r := 0; r < rounds; r++ {
		if err := pool(ctx, len(devs), conc, scrape); err != nil {
			return result{}, err
		}
	}
	cpu1, _ := proc.CPU(cmd.Process.Pid)
	wall, cpu, fleet := time.Since(t0), cpu1-cpu0, fleetCPU()-fleet0
	return result{name: "prometheus-snmp-exporter " + exporterVersion(ctx, bin) + " (HTTP scrape per device)", cycles: rounds,
		polls: rounds * len(devs), wall: wall, cpu: cpu, fleetCPU: fleet, values: int(values.Load()),
		note: "a module per vendor asking for the profile's objects (the same Get OIDs and table walks); the exporter's own CPU (from /proc), not the HTTP client's; values are the exported samples, DisplayStrings included, snmp_scrape_* left out"}, nil
}

func waitHTTP(ctx context.Context, c *http.Client, u string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the exporter did not answer on %s: %v", u, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func exporterVersion(ctx context.Context, bin string) string {
	out, _ := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "version" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}

package contrib

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/daemon"
)

const (
	rulesFile     = "prometheus/hsmwatch-rules.yml"
	rulesTest     = "prometheus/hsmwatch-rules_test.yml"
	dashboardFile = "grafana/hsmwatch-fleet.json"
)

// promtool is Debian's prometheus package (scripts/test.sh installs it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool is missing (Debian package prometheus): %v", err)
		}
		t.Skipf("promtool is missing (Debian package prometheus): %v", err)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ruleExprs are the expressions of the alerting rules, by alert name.
func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert] = r.Expr
		}
	}
	return out
}

// dashboardExprs are the expressions of the dashboard's panels (rows included) and of its
// variables' queries, with Grafana's variables replaced by values PromQL accepts.
func dashboardExprs(t *testing.T) (exprs map[string]string, variableQueries []string) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$host", ".*")
	exprs = map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				exprs[fmt.Sprintf("panel %d %q %s", p.ID, p.Title, tg.RefID)] = grafana.Replace(tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			variableQueries = append(variableQueries, v.Definition)
		}
	}
	return exprs, variableQueries
}

type panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Panels  []panel
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// Every expression parses: promtool checks the rules file, and a rules file made of one
// recording rule per dashboard expression.
func TestPromQLParses(t *testing.T) {
	pt := promtool(t)
	out := runTool(t, pt, "check", "rules", rulesFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules: %s", out)
	}
	exprs, _ := dashboardExprs(t)
	if len(exprs) < 15 {
		t.Fatalf("%d dashboard expressions: the dashboard was not read", len(exprs))
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	keys := sortedKeys(exprs)
	var rules []rule
	for i, k := range keys {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:expr_%d", i), Expr: exprs[k]})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(gen, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pt, "check", "rules", gen)
	if out, err := cmd.CombinedOutput(); err != nil {
		// promtool names the rule by its position: say which panel that is.
		for i, k := range keys {
			t.Logf("expr_%d: %s: %s", i, k, exprs[k])
		}
		t.Fatalf("dashboard expressions: %v\n%s", err, out)
	}
}

func TestAlertingRuleUnitTests(t *testing.T) {
	out := runTool(t, promtool(t), "test", "rules", rulesTest)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: %s", out)
	}
}

// metricRE finds hsmwatch's metric names in an expression; the other names an expression
// may use are in otherMetrics.
var metricRE = regexp.MustCompile(`\bhsmwatch_[a-z0-9_]+\b`)

// otherMetrics are series Prometheus writes itself, not hsmwatch.
var otherMetrics = map[string]bool{"up": true}

// Every metric the rules and the dashboard name is exported: by the demo (the simulated
// fleet and the daemon watching it), or, for the sinks' queue figures (the demo has no
// sink of its own), by a daemon with one sink.
func TestMetricsExist(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	demo, err := daemon.NewDemo(ctx, daemon.DemoOptions{Listen: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	demoDone := make(chan error, 1)
	go func() { demoDone <- demo.Run(ctx) }()

	dir := t.TempDir()
	cfg, err := config.Parse("(test)", []byte(fmt.Sprintf(`state_dir: %q
http: {listen: "127.0.0.1:0"}
sources:
  syslog:
    - listen: udp://127.0.0.1:0
sinks:
  nagios:
    - command_pipe: %q
`, dir, filepath.Join(dir, "nagios.cmd"))))
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(ctx, daemon.Options{Config: cfg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dDone := make(chan error, 1)
	go func() { dDone <- d.Run(ctx) }()
	defer func() {
		cancel()
		<-demoDone
		<-dDone
	}()

	used := map[string][]string{} // metric -> where
	exprs, varQueries := dashboardExprs(t)
	for k, v := range ruleExprs(t) {
		exprs[k] = v
	}
	for i, q := range varQueries {
		exprs[fmt.Sprintf("variable %d", i)] = q
	}
	for where, e := range exprs {
		names := metricRE.FindAllString(e, -1)
		for _, n := range names {
			used[n] = append(used[n], where)
		}
		if len(names) == 0 {
			known := false
			for m := range otherMetrics {
				known = known || regexp.MustCompile(`\b`+m+`\b`).MatchString(e)
			}
			if !known {
				t.Errorf("%s names no metric of hsmwatch: %s", where, e)
			}
		}
	}
	// The demo's alarms open and its polls fill the health figures after a while: scrape
	// until every name is there or the deadline passes.
	var missing []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		have := scrape(t, "http://"+demo.Daemon.Addr().String()+"/metrics")
		for n := range scrape(t, "http://"+d.Addr().String()+"/metrics") {
			if strings.HasPrefix(n, "hsmwatch_sink_") || strings.HasPrefix(n, "hsmwatch_passive_") {
				have[n] = true
			}
		}
		missing = missing[:0]
		for _, n := range sortedKeys(used) {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, n := range missing {
		t.Errorf("%s is not exported by hsmwatch (used by %s)", n, strings.Join(used[n], "; "))
	}
}

// scrape returns the metric families of a /metrics page.
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	have := map[string]bool{}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(l); len(f) >= 3 && string(f[0]) == "#" && string(f[1]) == "TYPE" {
			have[string(f[2])] = true
		}
	}
	return have
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

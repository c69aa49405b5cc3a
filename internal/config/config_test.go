package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	_ "github.com/hsmwatch/hsmwatch/internal/component/all"
	. "github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/poll"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
)

const good = `site: paris-dc1
store:
  dsn: sqlite:/var/lib/hsmwatch/hsmwatch.db
  max_age: 90d
http:
  listen: 127.0.0.1:9177
state:
  stale_after: 12h
  ignore:
    - rule: luna.ssh.*
      reason: jump host noise
sources:
  files:
    - path: /var/log/luna/*.log
  syslog:
    - listen: udp://0.0.0.0:514
    - listen: tls://0.0.0.0:6514
      cert: /etc/hsmwatch/tls.crt
      key: /etc/hsmwatch/tls.key
  poll:
    - host: luna1.example:161
      name: luna1
      profile: luna-network
      user:
        name: ops
        auth_proto: SHA
        auth_pass_file: /etc/hsmwatch/ops.auth
        priv_proto: AES
        priv_pass_file: /etc/hsmwatch/ops.priv
      interval: 60s
      thresholds:
        partition_storage_used: {warn: "70", crit: "85"}
        operation_error_rate: {warn: ""}
sinks:
  webhooks:
    - url: https://hooks.example/hsm
`

func TestParseGood(t *testing.T) {
	c, err := Parse("hsmwatch.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site != "paris-dc1" || time.Duration(c.Store.MaxAge) != 90*24*time.Hour || c.State.StaleAfter != 12*time.Hour {
		t.Errorf("decoded: %+v", c)
	}
	var polls []*poll.Spec
	var listeners []*syslog.Spec
	for _, e := range c.Sources.List {
		switch s := e.Spec.(type) {
		case *poll.Spec:
			polls = append(polls, s)
		case *syslog.Spec:
			listeners = append(listeners, s)
		}
	}
	if len(c.Sources.List) != 4 || len(polls) != 1 || len(listeners) != 2 || len(c.Sinks.List) != 1 {
		t.Fatalf("entries: %d sources (%d polls, %d listeners), %d sinks", len(c.Sources.List), len(polls), len(listeners), len(c.Sinks.List))
	}
	if polls[0].Name != "luna1" {
		t.Errorf("poll name: %q", polls[0].Name)
	}
	if polls[0].User.Name != "ops" || time.Duration(polls[0].Interval) != time.Minute || listeners[1].Cert != "/etc/hsmwatch/tls.crt" {
		t.Errorf("sources: %+v %+v", polls[0], listeners[1])
	}
	if c.Sources.List[1].Key != "sources.syslog[0]" || c.Sources.List[1].ID() != "syslog:udp://0.0.0.0:514" {
		t.Errorf("entry key %q, id %q", c.Sources.List[1].Key, c.Sources.List[1].ID())
	}
	if th := polls[0].Thresholds; *th["partition_storage_used"].Warn != "70" || *th["operation_error_rate"].Warn != "" || th["operation_error_rate"].Crit != nil {
		t.Errorf("poll thresholds: %+v", th)
	}
	if len(c.State.Ignore) != 1 || c.State.Ignore[0].Rule != "luna.ssh.*" {
		t.Errorf("state ignore: %+v", c.State.Ignore)
	}
}

func TestParseEmpty(t *testing.T) {
	if _, err := Parse("empty.yaml", nil); err != nil {
		t.Fatalf("an empty file is an empty configuration: %v", err)
	}
}

// Every problem is reported with file, line and key, all at once.
func TestParseProblems(t *testing.T) {
	bad := `store:
  dsn: postgres://hsm:secret@db/hsmwatch
sources:
  files:
    - format: auto
  syslog:
    - listen: udp://:514
    - listen: tls://:6514
    - listen: 0.0.0.0:514
  poll:
    - host: luna1
    - host: luna2
      community_env: HSM_COMMUNITY
      profile: thales
      thresholds: {batery: {warn: "50:"}, battery: {crit: "x"}}
sinks:
  webhooks:
    - url: ftp://x
`
	_, err := Parse("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"bad.yaml:2: store.dsn: holds a password",
		"bad.yaml:5: sources.files[0].path: required",
		"bad.yaml:8: sources.syslog[1]: a tls listener needs cert and key",
		"bad.yaml:9: sources.syslog[2].listen: want udp://HOST:PORT",
		"bad.yaml:11: sources.poll[0]: give community_file, community_env or user",
		"bad.yaml:18: sinks.webhooks[0].url: want an http:// or https:// URL",
		"bad.yaml:14: sources.poll[1].profile: unknown profile \"thales\"",
		"bad.yaml:15: sources.poll[1].thresholds: threshold batery: no profile has a health item of that name",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("the password leaked into the error: %s", msg)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Errorf("errors are not *Error: %T", err)
	}
}

func TestParseUnknownKeyAndBadValue(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"sources:\n  filez: []\n", "bad.yaml:2: sources.filez: unknown kind: want one of fifos, files, pkcs11, poll, syslog, traps"},
		{"sources:\n  files:\n    - path: /x\n      formatt: auto\n", "bad.yaml:4: sources.files[0].formatt: unknown key (did you mean format?)"},
		{"stat_dir: /x\n", "bad.yaml:1: stat_dir: unknown key (did you mean state_dir?)"},
		{"sinks:\n  stdout: maybe\n", "line 2: want true or false"},
		{"sources:\n  syslog:\n    - listen: udp://:514\n    - listen: udp://:514\n", "bad.yaml:4: sources.syslog[1]: the same syslog as sources.syslog[0]"},
		{"store:\n  max_age: soon\n", `duration "soon"`},
		{"state:\n  flap_count: 1\n", "bad.yaml:2: state: flap_count"},
		{"site: [\n", "bad.yaml: yaml:"},
	} {
		_, err := Parse("bad.yaml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

// Every kind's sample configuration loads, and together they name every kind.
func TestSampleLoads(t *testing.T) {
	text := Sample()
	c, err := Parse("sample.yaml", []byte(text))
	if err != nil {
		t.Fatalf("the sample does not load: %v\n%s", err, text)
	}
	kinds := map[string]bool{}
	for _, e := range append(c.Sources.List, c.Sinks.List...) {
		kinds[string(e.Kind.Role)+"."+e.Kind.Key] = true
	}
	for _, role := range []component.Role{component.SourceRole, component.SinkRole} {
		for _, k := range component.Kinds(role) {
			if !kinds[string(role)+"."+k.Key] {
				t.Errorf("the sample has no %s.%s entry", role, k.Key)
			}
		}
	}
}

// The configuration reference (docs/configuration.md) shows the generated sample, so
// that it cannot drift from the kinds' own samples.
func TestDocsShowTheSample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := "## Every kind, with its settings\n\n```yaml\n" + Sample() + "```\n"
	if !strings.Contains(string(doc), block) {
		t.Errorf("docs/configuration.md does not show the sample configuration; put this block under its heading (go run ./cmd/hsmwatch config sample prints it):\n%s", block)
	}
}

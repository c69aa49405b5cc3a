// Package config reads the YAML configuration of "hsmwatch serve": the sources, the rule
// catalog, the state settings, the store and the sinks, in one file. Load checks every
// setting before the daemon starts and names the file, the line and the key of what is
// wrong; unknown keys are errors, so a typo never silently disables a source.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Config is the whole file.
type Config struct {
	// Site names this daemon's rows when several share one PostgreSQL store.
	Site     string       `yaml:"site"`
	StateDir string       `yaml:"state_dir"` // checkpoints, spools (default: beside the store)
	Store    Store        `yaml:"store"`
	HTTP     HTTP         `yaml:"http"`
	Rules    []string     `yaml:"rules"` // rule files or folders added to the shipped catalog
	MIBs     []string     `yaml:"mibs"`  // MIB files or folders
	State    state.Config `yaml:"state"`
	Sources  Sources      `yaml:"sources"`
	Sinks    Sinks        `yaml:"sinks"`

	// File is where the configuration was read (for messages).
	File string `yaml:"-"`
}

// Store is where events, alarms and samples are kept.
type Store struct {
	// DSN is a SQLite path ("sqlite:/var/lib/hsmwatch/hsmwatch.db") or a PostgreSQL URL;
	// PostgreSQL passwords belong in PGPASSWORD or ~/.pgpass, not here.
	DSN       string   `yaml:"dsn"`
	MaxAge    Duration `yaml:"max_age"`
	MaxSizeMB int64    `yaml:"max_size_mb"`
}

// HTTP is the dashboard, the JSON API, /metrics and /-/reload.
type HTTP struct {
	Listen string `yaml:"listen"`
}

// Sources are the inputs.
type Sources struct {
	Files  []FileSource   `yaml:"files"`
	Syslog []SyslogSource `yaml:"syslog"`
	FIFOs  []FIFOSource   `yaml:"fifos"`
	Traps  *TrapSource    `yaml:"traps"`
	Poll   []PollTarget   `yaml:"poll"`
	PKCS11 []PKCS11Probe  `yaml:"pkcs11"`
}

// FileSource follows log files.
type FileSource struct {
	Path   string `yaml:"path"` // a path or a glob
	Format string `yaml:"format"`
	Start  string `yaml:"start"` // beginning (default) or end, for a file without checkpoint
}

// SyslogSource is one listener: udp://, tcp:// or tls:// HOST:PORT.
type SyslogSource struct {
	Listen   string  `yaml:"listen"`
	Cert     string  `yaml:"cert"`
	Key      string  `yaml:"key"`
	ClientCA string  `yaml:"client_ca"`
	Rate     float64 `yaml:"rate"` // messages per second per sender before limiting
}

// FIFOSource reads a named pipe.
type FIFOSource struct {
	Path   string `yaml:"path"`
	Format string `yaml:"format"`
}

// TrapSource is the SNMP trap receiver.
type TrapSource struct {
	Listen      string     `yaml:"listen"`
	Communities []string   `yaml:"communities"`
	Users       []SNMPUser `yaml:"users"`
	MinSecurity string     `yaml:"min_security"` // noAuthNoPriv, authNoPriv, authPriv
}

// SNMPUser is an SNMPv3 USM user. Passphrases come from files or the environment. The
// same entries make the users of "hsmwatch trapd --users FILE" (see ParseSNMPUsers).
type SNMPUser struct {
	Name         string `yaml:"name"`
	AuthProto    string `yaml:"auth_proto"` // default SHA, when a passphrase is given
	AuthPassFile string `yaml:"auth_pass_file"`
	AuthPassEnv  string `yaml:"auth_pass_env"`
	PrivProto    string `yaml:"priv_proto"` // default AES, when a passphrase is given
	PrivPassFile string `yaml:"priv_pass_file"`
	PrivPassEnv  string `yaml:"priv_pass_env"`
	// The trap receiver's users only: the engine IDs (hex) of the senders whose traps this
	// user may sign, the lowest security level accepted from this user (the higher of it
	// and the receiver's min_security applies), and no replay window for senders without
	// engine boots and time (Luna Network HSM 7).
	EngineIDs    []string `yaml:"engine_ids"`
	MinSecurity  string   `yaml:"min_security"`
	NoTimeliness bool     `yaml:"no_timeliness"`
}

// PollTarget is one HSM polled over SNMP.
type PollTarget struct {
	Host string `yaml:"host"`
	// Name, when set, is the host of the events and samples (else the agent's sysName):
	// give the name the HSM's syslog uses so that both land on one row.
	Name          string    `yaml:"name"`
	Profile       string    `yaml:"profile"`
	CommunityFile string    `yaml:"community_file"`
	CommunityEnv  string    `yaml:"community_env"`
	User          *SNMPUser `yaml:"user"`
	Interval      Duration  `yaml:"interval"`
	// Timeout of one request and its retries (defaults 5s and 1).
	Timeout Duration `yaml:"timeout"`
	Retries *int     `yaml:"retries"`
	// Thresholds replace the profile's defaults, by health item id:
	// thresholds: {battery: {warn: "50:", crit: "25:"}, partition_storage_used: {warn: "70"}}
	Thresholds map[string]poller.Thresholds `yaml:"thresholds"`
}

// PKCS11Probe reads token information through a PKCS#11 library on a schedule.
type PKCS11Probe struct {
	Library  string   `yaml:"library"`
	Interval Duration `yaml:"interval"`
}

// Sinks are the outputs.
type Sinks struct {
	Webhooks     []Webhook      `yaml:"webhooks"`
	Alertmanager []Alertmanager `yaml:"alertmanager"`
	SNMPTraps    []TrapTarget   `yaml:"snmp_traps"`
	Syslog       []SyslogTarget `yaml:"syslog"`
	Stdout       bool           `yaml:"stdout"`
}

// Webhook posts events as JSON.
type Webhook struct {
	URL      string `yaml:"url"`
	MinLevel string `yaml:"min_level"`
}

// Alertmanager receives alarms as alerts (API v2).
type Alertmanager struct {
	URL string `yaml:"url"`
}

// TrapTarget receives SNMP notifications.
type TrapTarget struct {
	Address       string    `yaml:"address"`
	Version       string    `yaml:"version"` // 2c or 3
	CommunityFile string    `yaml:"community_file"`
	CommunityEnv  string    `yaml:"community_env"`
	User          *SNMPUser `yaml:"user"`
	Inform        bool      `yaml:"inform"`
}

// SyslogTarget forwards events as RFC 5424 syslog.
type SyslogTarget struct {
	Address string `yaml:"address"` // udp://, tcp:// or tls:// HOST:PORT
}

// Duration reads "90s", "5m", "24h" and "30d".
type Duration time.Duration

// UnmarshalYAML accepts Go durations and a number of days ("30d").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads a Go duration or a whole number of days.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q: want a number of days such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("duration %q: want 90s, 5m, 24h or 30d", s)
	}
	return v, nil
}

// Error is one problem in the file, with where it is.
type Error struct {
	File string
	Line int
	Key  string // dotted path: sources.syslog[1].listen
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// Load reads and checks a configuration file. Every problem found is returned (joined),
// each naming the file, line and key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &Config{File: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty configuration
		return nil, fmt.Errorf("%s: %w", name, err) // yaml's messages carry "line N"
	}
	c.File = name
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, &Error{File: name, Line: lineOf(&root, p.key), Key: p.key, Msg: p.msg})
	}
	return c, errors.Join(errs...)
}

type problem struct{ key, msg string }

// problems lists what cannot work, by key.
func (c *Config) problems() []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	if c.Store.DSN != "" && !strings.HasPrefix(c.Store.DSN, "sqlite:") && !strings.HasPrefix(c.Store.DSN, "postgres://") &&
		!strings.HasPrefix(c.Store.DSN, "postgresql://") && !strings.HasPrefix(c.Store.DSN, "/") {
		add("store.dsn", "want sqlite:PATH, an absolute path or postgres://...")
	}
	if u, err := url.Parse(c.Store.DSN); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			add("store.dsn", "holds a password: put it in PGPASSWORD or ~/.pgpass instead")
		}
	}
	if err := c.State.Validate(); err != nil {
		add("state", "%v", err)
	}
	for i, f := range c.Sources.Files {
		k := fmt.Sprintf("sources.files[%d]", i)
		if f.Path == "" {
			add(k+".path", "required")
		}
		if f.Start != "" && f.Start != "beginning" && f.Start != "end" {
			add(k+".start", "want beginning or end, not %q", f.Start)
		}
	}
	for i, s := range c.Sources.Syslog {
		k := fmt.Sprintf("sources.syslog[%d]", i)
		scheme, _, ok := strings.Cut(s.Listen, "://")
		switch {
		case !ok:
			add(k+".listen", "want udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT, not %q", s.Listen)
		case scheme == "tls" && (s.Cert == "" || s.Key == ""):
			add(k, "a tls listener needs cert and key")
		case scheme != "udp" && scheme != "tcp" && scheme != "tls":
			add(k+".listen", "unknown scheme %q: want udp, tcp or tls", scheme)
		}
	}
	for i, f := range c.Sources.FIFOs {
		if f.Path == "" {
			add(fmt.Sprintf("sources.fifos[%d].path", i), "required")
		}
	}
	for i, p := range c.Sources.Poll {
		k := fmt.Sprintf("sources.poll[%d]", i)
		if p.Host == "" {
			add(k+".host", "required")
		}
		if p.User == nil && p.CommunityFile == "" && p.CommunityEnv == "" {
			add(k, "give community_file, community_env or user (the community public is not assumed)")
		}
		if names := poller.ShippedProfiles(); p.Profile != "" && p.Profile != "auto" && names[p.Profile] == nil {
			add(k+".profile", "unknown profile %q: want auto or one of %s", p.Profile, strings.Join(names.Names(), ", "))
		}
		if p.Retries != nil && *p.Retries < 0 {
			add(k+".retries", "must not be negative")
		}
		if err := poller.CheckThresholds(p.Thresholds); err != nil {
			add(k+".thresholds", "%v", err)
		}
	}
	if c.Sources.Traps != nil {
		if c.Sources.Traps.MinSecurity != "" {
			if _, err := receiver.ParseLevel(c.Sources.Traps.MinSecurity); err != nil {
				add("sources.traps.min_security", "%v", err)
			}
		}
		ps = append(ps, trapUsersProblems("sources.traps.users", c.Sources.Traps.Users)...)
	}
	for i, p := range c.Sources.Poll {
		if p.User != nil {
			ps = append(ps, p.User.problems(fmt.Sprintf("sources.poll[%d].user", i), false)...)
		}
	}
	for i, t := range c.Sinks.SNMPTraps {
		if t.User != nil {
			ps = append(ps, t.User.problems(fmt.Sprintf("sinks.snmp_traps[%d].user", i), false)...)
		}
	}
	for i, p := range c.Sources.PKCS11 {
		if p.Library == "" {
			add(fmt.Sprintf("sources.pkcs11[%d].library", i), "required")
		}
	}
	for i, w := range c.Sinks.Webhooks {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(fmt.Sprintf("sinks.webhooks[%d].url", i), "want an http:// or https:// URL, not %q", w.URL)
		}
	}
	for i, a := range c.Sinks.Alertmanager {
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(fmt.Sprintf("sinks.alertmanager[%d].url", i), "want the Alertmanager's http:// or https:// URL, not %q", a.URL)
		}
	}
	return ps
}

// lineOf finds the line of a dotted key path (with [i] indexes) in the YAML tree; the
// deepest part that exists is reported when the key itself is absent.
func lineOf(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(n, name)
		if next == nil {
			return line
		}
		line, n = next.Line, next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if n.Content[i+1].Kind == yaml.ScalarNode || n.Content[i+1].Kind == yaml.AliasNode {
				return &yaml.Node{Kind: n.Content[i+1].Kind, Line: n.Content[i].Line, Content: n.Content[i+1].Content}
			}
			return n.Content[i+1]
		}
	}
	return nil
}

// Package config reads the YAML configuration of "hsmwatch serve": the sources, the rule
// catalog, the state settings, the store and the sinks, in one file. The sources: and
// sinks: sections hold one key per kind, each read by the kind's own configuration type
// from the registry (internal/component). Load checks every setting before the daemon
// starts and reports every problem at once, each as FILE:LINE: KEY: problem; unknown
// keys are errors, so a typo never silently disables a source.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/component"
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
	Sources  Entries      `yaml:"sources"`
	Sinks    Entries      `yaml:"sinks"`

	// File is where the configuration was read (for messages).
	File string `yaml:"-"`
	// root is the file as read, for the lines of later checks (CheckFiles).
	root *yaml.Node
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
	// WebConfigFile is a Prometheus exporter-toolkit web configuration file: TLS, client
	// certificates, basic auth users with bcrypt hashes. Empty: plain HTTP, no
	// authentication.
	WebConfigFile string `yaml:"web_config_file"`
	// Hosts are the names clients reach the daemon by (Host header), besides the listen
	// address, localhost and IP addresses; any other name is refused (DNS rebinding).
	Hosts []string `yaml:"hosts"`
	// Roles maps authenticated users to viewer or operator; a user not named is a viewer.
	Roles map[string]string `yaml:"roles"`
	// MaxAPIRequests bounds the API requests in progress (503 past it). Default 32.
	MaxAPIRequests int `yaml:"max_api_requests"`
	// MaxStreamsPerAddress bounds the live streams of one client address. Default 8.
	MaxStreamsPerAddress int `yaml:"max_streams_per_address"`
}

// SNMPUser is an SNMPv3 USM user. Passphrases come from files or the environment.
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

// Duration reads "90s", "5m", "24h" and "30d".
type Duration time.Duration

// UnmarshalYAML accepts Go durations and a number of days ("30d").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
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

// Parse is Load on bytes already read; name is used in messages. The sources and sinks
// are decoded by their kinds, which must be registered (internal/component/all).
func Parse(name string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &Config{File: name}
	errs := unknownKeys(name, &root, reflect.TypeFor[Config](), "")
	if len(root.Content) > 0 { // an empty file is an empty configuration
		if err := root.Decode(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err)) // yaml's messages carry "line N"
		}
	}
	c.File, c.root = name, &root
	errs = append(errs, c.Sources.decode(name, &root, component.SourceRole)...)
	errs = append(errs, c.Sinks.decode(name, &root, component.SinkRole)...)
	for _, p := range c.problems() {
		errs = append(errs, &Error{File: name, Line: lineOf(&root, p.key), Key: p.key, Msg: p.msg})
	}
	return c, errors.Join(errs...)
}

type problem struct{ key, msg string }

// CheckDSN checks a store's DSN (store.dsn, or serve --store): "" (the default SQLite
// store in state_dir), sqlite:PATH, an absolute path, or a postgres:// URL. Any other
// scheme ("mysql://") is refused, never taken for a file name.
func CheckDSN(dsn string) error {
	lower := strings.ToLower(dsn)
	switch {
	case dsn == "", strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return nil
	case strings.HasPrefix(lower, "sqlite:"):
		if dsn[len("sqlite:"):] == "" {
			return errors.New("sqlite: names no file")
		}
		return nil
	case strings.HasPrefix(dsn, "/") && !strings.Contains(dsn, "://"):
		return nil
	}
	return errors.New("want sqlite:PATH, an absolute path or a postgres:// URL")
}

// problems lists what cannot work in the settings outside sources and sinks (those are
// checked by their kinds), by key.
func (c *Config) problems() []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	if err := CheckDSN(c.Store.DSN); err != nil {
		add("store.dsn", "%v", err)
	}
	if u, err := url.Parse(c.Store.DSN); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			add("store.dsn", "holds a password: put it in PGPASSWORD or ~/.pgpass instead")
		}
	}
	if err := c.State.Validate(); err != nil {
		add("state", "%v", err)
	}
	for u, r := range c.HTTP.Roles {
		if r != "viewer" && r != "operator" {
			add("http.roles."+u, "role %q: want viewer or operator", r)
		}
	}
	if c.HTTP.MaxAPIRequests < 0 {
		add("http.max_api_requests", "must not be negative")
	}
	if c.HTTP.MaxStreamsPerAddress < 0 {
		add("http.max_streams_per_address", "must not be negative")
	}
	for i, h := range c.HTTP.Hosts {
		if h == "" || strings.ContainsAny(h, "/: ") {
			add(fmt.Sprintf("http.hosts[%d]", i), "%q: want a host name, without port or scheme", h)
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

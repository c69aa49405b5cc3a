package component

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Role says whether a kind reads (sources:) or acts (sinks:).
type Role string

// The two roles, also the configuration's section names.
const (
	SourceRole Role = "sources"
	SinkRole   Role = "sinks"
)

// Spec is one configured entry of a kind: the kind's configuration type, decoded from
// YAML into the value New returned (so New sets the defaults).
type Spec interface {
	// ID identifies the entry within its kind across reloads ("/var/log/messages" for a
	// file, "udp://:514" for a listener). Two entries of a kind must not share one.
	ID() string
}

// Checker is a Spec that validates itself; each Problem's Key is relative to the entry
// ("listen", "thresholds.battery"), the configuration adds the file, line and path.
type Checker interface{ Check() []Problem }

// Switch is a Spec that may be configured off (sinks.stdout: false).
type Switch interface{ Enabled() bool }

// Problem is one thing wrong with an entry.
type Problem struct{ Key, Msg string }

// Problemf makes a Problem.
func Problemf(key, format string, args ...any) Problem {
	return Problem{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Kind is one kind of source or sink.
type Kind struct {
	Role Role
	// Key is the YAML key under the role's section ("files" under sources:).
	Key string
	// Single kinds take one mapping (sources.traps: {...}), the others a list.
	Single bool
	// Doc says in one line what the kind does (the configuration reference).
	Doc string
	// Sample is a YAML sample of the section's value, with comments (docs/configuration.md's
	// example and a test that loads every kind's sample).
	Sample string
	// UsesMIBs: the kind reads the MIB table, so a changed mibs: list rebuilds it.
	UsesMIBs bool
	// New returns a Spec with the defaults filled in, to decode an entry into.
	New func() Spec
	// Source and Sink build a unit from a decoded, checked Spec (one of them is set,
	// by Role). A constructor binds what it must (a port in use is reported at start)
	// but reads nothing until Run.
	Source func(Spec, Env) (Source, error)
	Sink   func(Spec, Env) (Sink, error)
}

// Env is what the daemon lends a constructor.
type Env struct {
	Logger   *slog.Logger
	StateDir string              // checkpoints and spools live below it
	MIB      *mib.Table          // OID names: the built-in table plus the configured MIBs
	Getenv   func(string) string // reads *_env settings (secrets: never logged)
	Stdout   io.Writer
	Hosts    Hosts
	Samples  Samples
}

// Hosts attributes events that name no host of their own (a Dinamo's traps) to the HSM a
// poller found at the same address.
type Hosts interface {
	Learn(target, profile, host string)
	Name(ev *event.Event)
}

// Samples keeps the figures an HSM reported (polls, probes): /metrics shows the latest,
// the store keeps their history for the dashboard's charts.
type Samples interface {
	PutSamples(ctx context.Context, host string, at time.Time, ss []Sample)
	// ForgetSamples takes an HSM that is no longer watched off /metrics.
	ForgetSamples(host string)
}

// Sample is one figure of one HSM: "memAvailReal" of host "luna1", labels {index="1"}.
type Sample struct {
	Name   string // as stored (the dashboard charts it by this name)
	Labels map[string]string
	Value  float64 // as read
	// How /metrics exports it, fixed by the component that reads it: the series name
	// (snake_case, its unit last, without the hsmwatch_hsm_ prefix), its help, its value
	// in that unit, and whether it is a counter. An empty Metric exports Name and Value.
	Metric      string
	Help        string
	MetricValue float64
	Counter     bool
}

// registry holds the kinds. Kinds register from their packages' init functions (as
// database/sql drivers do) and it is only read after that; internal/component/all
// imports every kind.
type registry struct {
	mu    sync.RWMutex
	kinds map[Role]map[string]*Kind
}

var kinds = &registry{kinds: map[Role]map[string]*Kind{}}

// Register adds a kind; a package calls it from init. Two kinds of one role under one
// key are a programming error and panic, as database/sql.Register does.
func Register(k Kind) {
	if k.Key == "" || k.New == nil || (k.Role == SourceRole) != (k.Source != nil) || (k.Role == SinkRole) != (k.Sink != nil) {
		panic(fmt.Sprintf("component: kind %q of %q is incomplete", k.Key, k.Role))
	}
	kinds.mu.Lock()
	defer kinds.mu.Unlock()
	m := kinds.kinds[k.Role]
	if m == nil {
		m = map[string]*Kind{}
		kinds.kinds[k.Role] = m
	}
	if _, dup := m[k.Key]; dup {
		panic(fmt.Sprintf("component: %s.%s registered twice", k.Role, k.Key))
	}
	m[k.Key] = &k
}

// Lookup finds the kind of role under key.
func Lookup(role Role, key string) (*Kind, bool) {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	k, ok := kinds.kinds[role][key]
	return k, ok
}

// Kinds lists the kinds of a role by key.
func Kinds(role Role) []*Kind {
	kinds.mu.RLock()
	defer kinds.mu.RUnlock()
	out := make([]*Kind, 0, len(kinds.kinds[role]))
	for _, k := range kinds.kinds[role] {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *Kind) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Keys lists the keys of a role, for messages ("want one of files, fifos, ...").
func Keys(role Role) string {
	var ks []string
	for _, k := range Kinds(role) {
		ks = append(ks, k.Key)
	}
	return strings.Join(ks, ", ")
}

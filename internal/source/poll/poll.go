// Package poll polls HSMs over SNMP (sources.poll): internal/snmp/poller on a schedule,
// its events into the pipeline and its figures to /metrics and the store.
package poll

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Spec is one polled HSM.
type Spec struct {
	Host string `yaml:"host"`
	// Name, when set, is the host of the events and samples (else the agent's sysName):
	// give the name the HSM's syslog uses so that both land on one row.
	Name          string           `yaml:"name"`
	Profile       string           `yaml:"profile"`
	CommunityFile string           `yaml:"community_file"`
	CommunityEnv  string           `yaml:"community_env"`
	User          *config.SNMPUser `yaml:"user"`
	Interval      config.Duration  `yaml:"interval"`
	// Timeout of one request and its retries (defaults 5s and 1).
	Timeout config.Duration `yaml:"timeout"`
	Retries *int            `yaml:"retries"`
	// Thresholds replace the profile's defaults, by health item id:
	// thresholds: {battery: {warn: "50:", crit: "25:"}, partition_storage_used: {warn: "70"}}
	Thresholds map[string]poller.Thresholds `yaml:"thresholds"`
}

// ID is the address and the name; a changed entry replaces the poller (the next poll is
// the new one's first: a poll is a reading, nothing is lost between two).
func (s *Spec) ID() string { return s.Host + "/" + s.Name }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var ps []component.Problem
	if s.Host == "" {
		ps = append(ps, component.Problemf("host", "required"))
	}
	if s.User == nil && s.CommunityFile == "" && s.CommunityEnv == "" {
		ps = append(ps, component.Problemf("", "give community_file, community_env or user (the community public is not assumed)"))
	}
	if names := poller.ShippedProfiles(); s.Profile != "" && s.Profile != "auto" && names[s.Profile] == nil {
		ps = append(ps, component.Problemf("profile", "unknown profile %q: want auto or one of %s", s.Profile, strings.Join(names.Names(), ", ")))
	}
	if s.Retries != nil && *s.Retries < 0 {
		ps = append(ps, component.Problemf("retries", "must not be negative"))
	}
	if err := poller.CheckThresholds(s.Thresholds); err != nil {
		ps = append(ps, component.Problemf("thresholds", "%v", err))
	}
	if s.User != nil {
		ps = append(ps, s.User.Check("user", false)...)
	}
	return ps
}

const sampleConfig = `# HSMs polled over SNMP. profile auto detects a Luna Network HSM, a Luna PCIe host or
# a Dinamo; thresholds replace a profile's defaults by health item.
- host: luna1.example:161
  name: luna1                       # the name the HSM's syslog uses (default: its sysName)
  profile: auto
  interval: 60s                     # the Luna agent refreshes its tables every 60 s
  user:
    name: ops
    auth_proto: SHA
    auth_pass_file: /etc/hsmwatch/ops.auth
    priv_proto: AES
    priv_pass_file: /etc/hsmwatch/ops.priv
  thresholds:
    partition_storage_used: {warn: "70", crit: "85"}
- host: dinamo1.example:161
  community_file: /etc/hsmwatch/dinamo.community
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "poll", UsesMIBs: true,
		Doc: "polls HSMs over SNMP (v2c, v3) with detected profiles and derived health", Sample: sampleConfig,
		New:    func() component.Spec { return &Spec{} },
		Source: open})
}

func (s *Spec) target(env component.Env) (poller.Target, error) {
	tg := poller.Target{Addr: s.Host, Name: s.Name, Timeout: time.Duration(s.Timeout), Retries: s.Retries}
	if s.User != nil {
		u, err := s.User.Resolve(env.Getenv)
		if err != nil {
			return tg, err
		}
		tg.Version, tg.User = "3", u.Name
		if u.AuthPass != "" {
			tg.AuthProto, tg.AuthPass = or(s.User.AuthProto, "SHA"), u.AuthPass
		}
		if u.PrivPass != "" {
			tg.PrivProto, tg.PrivPass = or(s.User.PrivProto, "AES"), u.PrivPass
		}
		return tg, nil
	}
	c, err := config.Secret("community", s.CommunityFile, s.CommunityEnv, env.Getenv)
	if err != nil {
		return tg, err
	}
	tg.Version, tg.Community = "2c", c
	return tg, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func open(sp component.Spec, env component.Env) (component.Source, error) {
	s := sp.(*Spec)
	tg, err := s.target(env)
	if err != nil {
		return nil, err
	}
	pl, err := poller.New(poller.Options{Target: tg, Profile: s.Profile, MIB: env.MIB,
		Thresholds: s.Thresholds, Interval: time.Duration(s.Interval), Logger: env.Logger})
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &source{pl: pl, spec: s, env: env, log: log, name: "poll:" + tg.String()}, nil
}

type source struct {
	pl   *poller.Poller
	spec *Spec
	env  component.Env
	log  *slog.Logger
	name string

	polls, failures, events atomic.Int64
	host                    atomic.Pointer[string] // the host its samples are exported under
}

func (s *source) Name() string { return s.name }

// Run polls until ctx ends.
func (s *source) Run(ctx context.Context, emit component.Emit) error {
	defer s.pl.Close()
	return s.pl.Run(ctx, func(r *poller.Result, err error) {
		s.polls.Add(1)
		if err != nil || r == nil {
			s.failures.Add(1)
			if ctx.Err() == nil {
				s.log.Warn("poll failed", "target", s.name, "err", err)
			}
			if r == nil {
				return
			}
		}
		// An entry without name is known by its address until its sysName is read, then by
		// that name: the rename event goes ahead of the poll's events, so the pipeline moves
		// the alarms opened under the address before the recovery clears them.
		if prev := s.host.Load(); prev != nil && r.Host != "" && *prev != r.Host && s.spec.Name == "" {
			s.log.Info("polled HSM renamed", "target", s.name, "from", *prev, "to", r.Host)
			if err := emit(ctx, component.Record{Event: state.RenameEvent(*prev, r.Host, r.Time)}); err != nil {
				return
			}
			if s.env.Samples != nil {
				s.env.Samples.ForgetSamples(*prev)
			}
		}
		if r.Host != "" {
			s.host.Store(&r.Host)
		}
		for i := range r.Events {
			if err := emit(ctx, component.Record{Event: &r.Events[i]}); err != nil {
				return
			}
			s.events.Add(1)
		}
		if r.Host == "" {
			return
		}
		if s.env.Hosts != nil {
			s.env.Hosts.Learn(s.spec.Host, r.Profile, r.Host)
		}
		if s.env.Samples != nil && len(r.Samples) > 0 {
			s.env.Samples.PutSamples(ctx, r.Host, r.Time, Samples(r))
		}
	})
}

// Samples are a poll's figures as the daemon keeps them (the demo's history stores its
// own polls' figures with them).
func Samples(r *poller.Result) []component.Sample {
	out := make([]component.Sample, 0, len(r.Samples))
	for _, s := range r.Samples {
		labels := make(map[string]string, len(s.Labels))
		for _, l := range s.Labels {
			labels[l.Name] = l.Value
		}
		out = append(out, component.Sample{Name: s.Name, Labels: labels, Value: s.Value,
			Metric: s.Metric.Name, Help: s.Metric.Help, MetricValue: s.Metric.Value(s.Value), Counter: s.Metric.Counter})
	}
	return out
}

// Close implements component.Closer: a poller no longer running takes its HSM's figures
// off /metrics (no stale figures).
func (s *source) Close() {
	_ = s.pl.Close()
	if h := s.host.Load(); h != nil && s.env.Samples != nil {
		s.env.Samples.ForgetSamples(*h)
	}
}

// Figures implements component.Instrumented.
func (s *source) Figures() []component.Figure {
	l := map[string]string{"source": s.name}
	return []component.Figure{
		{Name: "polls_total", Help: "SNMP polls done.", Counter: true, Labels: l, Read: func() float64 { return float64(s.polls.Load()) }},
		{Name: "poll_failures_total", Help: "SNMP polls that failed.", Counter: true, Labels: l, Read: func() float64 { return float64(s.failures.Load()) }},
		{Name: "source_events_total", Help: "Events emitted by a source.", Counter: true, Labels: l, Read: func() float64 { return float64(s.events.Load()) }},
	}
}

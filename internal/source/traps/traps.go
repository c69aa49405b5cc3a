// Package traps is the daemon's SNMP trap receiver (sources.traps): the receive loop of
// internal/snmp/receiver with the configuration's communities and SNMPv3 users.
package traps

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/secretfile"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
)

// Spec is sources.traps.
type Spec struct {
	Listen      string   `yaml:"listen"`
	Communities []string `yaml:"communities"`
	// CommunitiesFile and CommunitiesEnv give communities that must not be written in
	// the configuration: a file of one community a line (# comments; mode 0600, as for
	// every secret file), and an environment variable of communities separated by commas.
	CommunitiesFile string            `yaml:"communities_file"`
	CommunitiesEnv  string            `yaml:"communities_env"`
	Users           []config.SNMPUser `yaml:"users"`
	MinSecurity     string            `yaml:"min_security"` // noAuthNoPriv, authNoPriv, authPriv
}

// ID is the address: communities, users, the minimum level and the MIBs change on the
// open socket.
func (s *Spec) ID() string { return s.Listen }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var ps []component.Problem
	if s.Listen == "" {
		ps = append(ps, component.Problemf("listen", "required (HOST:PORT; 162 is the standard port)"))
	}
	if s.MinSecurity != "" {
		if _, err := receiver.ParseLevel(s.MinSecurity); err != nil {
			ps = append(ps, component.Problemf("min_security", "%v", err))
		}
	}
	return append(ps, config.CheckTrapUsers("users", s.Users)...)
}

// communities are the communities written in the configuration, those of
// CommunitiesFile and those of CommunitiesEnv (read with getenv). Errors name the file or
// the variable, never a community.
func (s *Spec) communities(getenv func(string) string) ([]string, error) {
	out := append([]string(nil), s.Communities...)
	if s.CommunitiesFile != "" {
		text, err := secretfile.Read(s.CommunitiesFile, "communities_file", io.Discard)
		if err != nil {
			return nil, err
		}
		n := len(out)
		for line := range strings.Lines(text) {
			if c := strings.TrimSpace(line); c != "" && !strings.HasPrefix(c, "#") {
				out = append(out, c)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("communities_file %s: no community", s.CommunitiesFile)
		}
	}
	if s.CommunitiesEnv != "" {
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(s.CommunitiesEnv)
		n := len(out)
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("communities_env: environment variable %s is empty or not set", s.CommunitiesEnv)
		}
	}
	return out, nil
}

// config reads the receiver's settings, its users' passphrases included.
func (s *Spec) config(env component.Env) (receiver.Config, error) {
	rc := receiver.Config{Addr: s.Listen, MIB: env.MIB, Logger: env.Logger}
	communities, err := s.communities(env.Getenv)
	if err != nil {
		return rc, err
	}
	if len(communities) > 0 {
		rc.Communities = []receiver.CommunityRule{{Communities: communities}}
	}
	if s.MinSecurity != "" {
		var l receiver.Level
		l, err = receiver.ParseLevel(s.MinSecurity)
		if err != nil {
			return rc, fmt.Errorf("min_security: %w", err)
		}
		rc.MinLevel = l
	}
	for _, u := range s.Users {
		tu, err := u.TrapUser(env.Getenv)
		if err != nil {
			return rc, err
		}
		rc.Users = append(rc.Users, tu)
	}
	return rc, nil
}

const sampleConfig = `# The SNMP trap receiver: v1/v2c by community, v3 by user (passphrases from files or
# the environment). A Luna's traps name their host in ssLogReference; a Dinamo's are
# attributed to the HSM a poller found at the sender's address.
listen: 0.0.0.0:162
communities: [hsm-traps]            # written here they show to whoever reads this file:
# communities_file: /etc/hsmwatch/trap.communities   # one a line, # comments; mode 600
# communities_env: HSMWATCH_TRAP_COMMUNITIES         # an environment variable, comma-separated
min_security: authPriv
users:
  - name: ops
    auth_proto: SHA
    auth_pass_file: /etc/hsmwatch/ops.auth
    priv_proto: AES
    priv_pass_file: /etc/hsmwatch/ops.priv
    engine_ids: ["80001f8804646c756e6131"]   # the senders' engine IDs (hex), as the appliance shows them
    # min_security: authNoPriv      # this user's lowest level (the higher of it and the one above);
    #                               # left out, the user's keys set it (authPriv with priv_proto)
    # no_timeliness: true           # no replay window (senders without engine boots and time)
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "traps", Single: true, UsesMIBs: true,
		Doc: "receives SNMP traps and informs (v1, v2c, v3)", Sample: sampleConfig,
		New:    func() component.Spec { return &Spec{} },
		Source: open})
}

func open(sp component.Spec, env component.Env) (component.Source, error) {
	rc, err := sp.(*Spec).config(env)
	if err != nil {
		return nil, err
	}
	r, err := receiver.New(rc)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &source{r: r, hosts: env.Hosts, log: log, name: "traps:" + r.Addr().String()}, nil
}

type source struct {
	r     *receiver.Receiver
	hosts component.Hosts
	log   *slog.Logger
	name  string
}

func (s *source) Name() string { return s.name }

// Run emits each trap; Emit blocks while the pipeline's queue is full: back-pressure,
// not loss (the socket's buffer and the receiver's queue absorb a burst meanwhile).
func (s *source) Run(ctx context.Context, emit component.Emit) error {
	return s.r.Run(ctx, func(ev *event.Event) {
		if s.hosts != nil {
			s.hosts.Name(ev)
		}
		if err := emit(ctx, component.Record{Event: ev}); err != nil && ctx.Err() == nil {
			s.log.Warn("trap not queued", "err", err)
		}
	})
}

// Reconfigure implements component.Reconfigurer on the open socket.
func (s *source) Reconfigure(sp component.Spec, env component.Env) error {
	rc, err := sp.(*Spec).config(env)
	if err != nil {
		return err
	}
	return s.r.Reconfigure(rc)
}

// Close implements component.Closer.
func (s *source) Close() { _ = s.r.Close() }

// Addrs implements component.Listener.
func (s *source) Addrs() []net.Addr { return []net.Addr{s.r.Addr()} }

// Figures implements component.Instrumented.
func (s *source) Figures() []component.Figure {
	l := map[string]string{"source": s.name}
	st := s.r.Stats
	return []component.Figure{
		{Name: "packets_read_total", Help: "Datagrams or messages read by a network source.", Counter: true, Labels: l, Read: func() float64 { return float64(st().Packets) }},
		{Name: "source_events_total", Help: "Events emitted by a source.", Counter: true, Labels: l, Read: func() float64 { return float64(st().Events) }},
		{Name: "parse_failures_total", Help: component.ParseFailuresHelp, Counter: true, Labels: l, Read: func() float64 { return float64(st().RejectedTotal()) }},
	}
}

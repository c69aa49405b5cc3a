// Package snmptrap sends SNMP notifications to an NMS (sinks.snmp_traps), as the Luna
// appliance's own trap agent would: internal/snmp/sender, one target per entry. A slow
// NMS (informs waiting for their acknowledgement) fills this sink's queue only.
package snmptrap

import (
	"context"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/sender"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Spec is one NMS that receives notifications.
type Spec struct {
	Address       string           `yaml:"address"`
	Version       string           `yaml:"version"` // 2c or 3
	CommunityFile string           `yaml:"community_file"`
	CommunityEnv  string           `yaml:"community_env"`
	User          *config.SNMPUser `yaml:"user"`
	Inform        bool             `yaml:"inform"`
}

// ID is the target's address.
func (s *Spec) ID() string { return s.Address }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var ps []component.Problem
	if s.Address == "" {
		ps = append(ps, component.Problemf("address", "required (HOST:PORT)"))
	}
	switch {
	case s.Version != "" && s.Version != "2c" && s.Version != "3":
		ps = append(ps, component.Problemf("version", "want 2c or 3, not %q", s.Version))
	case s.Version == "3" && s.User == nil:
		ps = append(ps, component.Problemf("user", "version 3 needs a user"))
	case s.User == nil && s.CommunityFile == "" && s.CommunityEnv == "":
		ps = append(ps, component.Problemf("", "give community_file or community_env (v2c), or user (v3)"))
	}
	if s.User != nil {
		ps = append(ps, s.User.Check("user", false)...)
	}
	return ps
}

const sampleConfig = `# SNMP notifications to an NMS, with the Luna trap agent's ssLogReference: traps, or
# informs retried until acknowledged.
- address: nms.example:162
  version: "3"
  inform: true
  user:
    name: ops
    auth_proto: SHA
    auth_pass_file: /etc/hsmwatch/ops.auth
    priv_proto: AES
    priv_pass_file: /etc/hsmwatch/ops.priv
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "snmp_traps", UsesMIBs: true,
		Doc: "sends SNMP notifications (v2c, v3; traps or informs)", Sample: sampleConfig,
		New:  func() component.Spec { return &Spec{} },
		Sink: open})
}

func (s *Spec) target(env component.Env) (notify.Target, error) {
	t := notify.Target{Addr: s.Address, Inform: s.Inform, Timeout: 5 * time.Second, Retries: 2}
	if s.User != nil {
		u, err := s.User.Resolve(env.Getenv)
		if err != nil {
			return t, err
		}
		t.Version, t.User = gosnmp.Version3, &u
		return t, nil
	}
	c, err := config.Secret("community", s.CommunityFile, s.CommunityEnv, env.Getenv)
	if err != nil || c == "" {
		return t, fmt.Errorf("no community: give community_file or community_env (err: %v)", err)
	}
	t.Version, t.Community = gosnmp.Version2c, c
	return t, nil
}

func open(sp component.Spec, env component.Env) (component.Sink, error) {
	s := sp.(*Spec)
	t, err := s.target(env)
	if err != nil {
		return nil, fmt.Errorf("snmp_traps %s: %w", s.Address, err)
	}
	snd, err := sender.New(sender.Config{Targets: []notify.Target{t}, MIB: env.MIB, Logger: env.Logger})
	if err != nil {
		return nil, fmt.Errorf("snmp_traps %s: %w", s.Address, err)
	}
	return &Sink{s: snd, name: "snmp-traps " + s.Address}, nil
}

// Sink sends the notifications of the events that carry a Luna notification category
// and that the state lets through (not ignored, not a repeat, not held by a storm).
type Sink struct {
	s    *sender.Sink
	name string
}

// Name implements component.Sink.
func (k *Sink) Name() string { return k.name }

// Write implements component.Sink. A notification that fails is counted by the sender
// (informs are retried there); the batch is not sent again, which would repeat the ones
// that went through.
func (k *Sink) Write(ctx context.Context, batch []component.Item) error {
	for _, it := range batch {
		if !it.Decision.Emit() {
			continue
		}
		cat := sender.Category(it.Record.Event)
		if cat != "" {
			if err := k.s.Send(ctx, it.Record.Event); err != nil && ctx.Err() != nil {
				return err
			}
		}
		// An alarm of another category that the event closes (a rule's clears list, a
		// clear without a category of its own) is de-asserted by a notification of its own.
		for _, a := range closed(it.Decision) {
			if c := sender.Category(&event.Event{Notification: a.Notification}); c == "" || c == cat {
				continue
			}
			if err := k.s.Send(ctx, alarmEvent(a, event.False)); err != nil && ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

// OpenAlarms implements component.AlarmAware: when the sink starts, each open alarm of a
// Luna notification category is sent as an assert, so that the NMS learns of alarms
// opened before the sink ran (or before a restart).
func (k *Sink) OpenAlarms(ctx context.Context, open []state.Alarm) {
	for _, a := range open {
		if sender.Category(&event.Event{Notification: a.Notification}) == "" {
			continue
		}
		if k.s.Send(ctx, alarmEvent(a, event.True)) != nil && ctx.Err() != nil {
			return
		}
	}
}

// closed lists the alarms a decision closes.
func closed(d state.Decision) []state.Alarm {
	var out []state.Alarm
	if d.Change == state.Cleared && d.Alarm != nil {
		out = append(out, *d.Alarm)
	}
	return append(append(out, d.AlsoCleared...), d.Matured...)
}

// alarmEvent is the event a notification about alarm a is made of: its host, component,
// category and latest message; assert says whether it is open or over.
func alarmEvent(a state.Alarm, assert event.Tri) *event.Event {
	t := a.Opened
	if assert == event.False && !a.Cleared.IsZero() {
		t = a.Cleared
	}
	return &event.Event{Time: t, Host: a.Host, Component: a.Component, Level: a.Level, Rule: a.Rule,
		Title: a.Title, Notification: a.Notification, Message: a.Message, Input: a.Input, Assert: assert}
}

// Figures implements component.Instrumented.
func (k *Sink) Figures() []component.Figure {
	l := map[string]string{"sink": k.name}
	return []component.Figure{
		{Name: "snmp_notifications_sent_total", Help: "SNMP notifications delivered.", Counter: true, Labels: l, Read: func() float64 { return float64(k.s.Stats().Sent) }},
		{Name: "snmp_notifications_failed_total", Help: "SNMP notifications that failed.", Counter: true, Labels: l, Read: func() float64 { return float64(k.s.Stats().Failed) }},
	}
}

package daemon

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/mib"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/source/fifo"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/snmppoll"
	"github.com/hsmwatch/hsmwatch/internal/source/snmptrap"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// buildSources makes every configured source; sockets are bound here.
func (d *Daemon) buildSources(cfg *config.Config, stateDir string) error {
	table := mib.Builtin()
	if len(cfg.MIBs) > 0 {
		if err := table.Load(cfg.MIBs...); err != nil {
			d.log.Warn("some MIB definitions did not load", "err", err)
		}
	}
	for i, f := range cfg.Sources.Files {
		fl, err := follow.New(follow.Config{Path: f.Path, Format: f.Format, Start: f.Start,
			StateDir: filepath.Join(stateDir, "checkpoints"), Logger: d.log})
		if err != nil {
			return fmt.Errorf("sources.files[%d]: %w", i, err)
		}
		d.sources = append(d.sources, fl)
	}
	for i, s := range cfg.Sources.Syslog {
		scheme, addr, _ := strings.Cut(s.Listen, "://")
		sc := syslog.Config{Name: "syslog:" + s.Listen, CertFile: s.Cert, KeyFile: s.Key, ClientCAFile: s.ClientCA, Rate: s.Rate, Logger: d.log}
		switch scheme {
		case "udp":
			sc.UDP = addr
		case "tcp":
			sc.TCP = addr
		case "tls":
			sc.TLS = addr
		}
		srv, err := syslog.New(sc)
		if err != nil {
			return fmt.Errorf("sources.syslog[%d]: %w", i, err)
		}
		d.sources = append(d.sources, srv)
	}
	for i, f := range cfg.Sources.FIFOs {
		r, err := fifo.New(fifo.Config{Path: f.Path, Format: f.Format, Logger: d.log})
		if err != nil {
			return fmt.Errorf("sources.fifos[%d]: %w", i, err)
		}
		d.sources = append(d.sources, r)
	}
	if t := cfg.Sources.Traps; t != nil {
		if err := d.buildTraps(t, table); err != nil {
			return fmt.Errorf("sources.traps: %w", err)
		}
	}
	for i, p := range cfg.Sources.Poll {
		if err := d.buildPoller(p, table); err != nil {
			return fmt.Errorf("sources.poll[%d]: %w", i, err)
		}
	}
	for _, p := range cfg.Sources.PKCS11 {
		d.buildPKCS11(p)
	}
	return nil
}

func (d *Daemon) buildTraps(t *config.TrapSource, table *mib.Table) error {
	rc := snmptrap.Config{Addr: t.Listen, MIB: table, Logger: d.log}
	if len(t.Communities) > 0 {
		rc.Communities = []snmptrap.CommunityRule{{Communities: t.Communities}}
	}
	if t.MinSecurity != "" {
		l, err := snmptrap.ParseLevel(t.MinSecurity)
		if err != nil {
			return fmt.Errorf("min_security: %w", err)
		}
		rc.MinLevel = l
	}
	for _, u := range t.Users {
		uu, err := d.user(u)
		if err != nil {
			return err
		}
		tu := snmptrap.User{User: uu}
		for _, s := range u.EngineIDs {
			id, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(s), "0x"))
			if err != nil {
				return fmt.Errorf("user %s: engine_ids: %q is not hex", u.Name, s)
			}
			tu.EngineIDs = append(tu.EngineIDs, id)
		}
		rc.Users = append(rc.Users, tu)
	}
	rcv, err := snmptrap.New(rc)
	if err != nil {
		return err
	}
	name := "traps:" + rcv.Addr().String()
	d.trapAddr = rcv.Addr()
	d.runners = append(d.runners, runner{name: name, stop: func() { _ = rcv.Close() },
		run: func(ctx context.Context) error {
			return rcv.Run(ctx, func(ev *event.Event) {
				// Blocks while the pipeline's queue is full: back-pressure, not loss.
				if err := d.pipe.Emit(ctx, pipeline.Record{Event: ev}); err != nil && ctx.Err() == nil {
					d.log.Warn("trap not queued", "err", err)
				}
			})
		}})
	l := map[string]string{"source": name}
	d.reg.Func("packets_read_total", "Datagrams or messages read by a network source.", true, l, func() float64 { return float64(rcv.Stats().Packets) })
	d.reg.Func("source_events_total", "Events emitted by a source.", true, l, func() float64 { return float64(rcv.Stats().Events) })
	d.reg.Func("parse_failures_total", "Input a source could not parse (unparsed events, refused datagrams).", true, l, func() float64 { return float64(rcv.Stats().RejectedTotal()) })
	return nil
}

func (d *Daemon) buildPoller(p config.PollTarget, table *mib.Table) error {
	tg := snmppoll.Target{Addr: p.Host, Name: p.Name, Timeout: time.Duration(p.Timeout), Retries: p.Retries}
	if p.User != nil {
		u, err := d.user(*p.User)
		if err != nil {
			return err
		}
		tg.Version, tg.User = "3", u.Name
		if u.AuthPass != "" {
			tg.AuthProto, tg.AuthPass = protoName(p.User.AuthProto, "SHA"), u.AuthPass
		}
		if u.PrivPass != "" {
			tg.PrivProto, tg.PrivPass = protoName(p.User.PrivProto, "AES"), u.PrivPass
		}
	} else {
		c, err := d.secret(p.CommunityFile, p.CommunityEnv)
		if err != nil {
			return fmt.Errorf("community: %w", err)
		}
		tg.Version, tg.Community = "2c", c
	}
	pl, err := snmppoll.New(snmppoll.Options{Target: tg, Profile: p.Profile, MIB: table,
		Thresholds: p.Thresholds, Interval: time.Duration(p.Interval), Logger: d.log})
	if err != nil {
		return err
	}
	name := "poll:" + tg.String()
	var polls, failures, events atomicCounter
	d.runners = append(d.runners, runner{name: name, stop: func() { _ = pl.Close() },
		run: func(ctx context.Context) error {
			defer pl.Close()
			return pl.Run(ctx, func(r *snmppoll.Result, err error) {
				polls.add()
				if err != nil || r == nil {
					failures.add()
					if ctx.Err() == nil {
						d.log.Warn("poll failed", "target", name, "err", err)
					}
					if r == nil {
						return
					}
				}
				for i := range r.Events {
					ev := r.Events[i]
					if err := d.pipe.Emit(ctx, pipeline.Record{Event: &ev}); err != nil {
						return
					}
					events.add()
				}
				d.samples(ctx, r)
			})
		}})
	l := map[string]string{"source": name}
	d.reg.Func("polls_total", "SNMP polls done.", true, l, polls.value)
	d.reg.Func("poll_failures_total", "SNMP polls that failed.", true, l, failures.value)
	d.reg.Func("source_events_total", "Events emitted by a source.", true, l, events.value)
	return nil
}

// samples hands a poll's figures to /metrics and to the store.
func (d *Daemon) samples(ctx context.Context, r *snmppoll.Result) {
	if r.Host == "" || len(r.Samples) == 0 {
		return
	}
	ms := make([]metrics.Sample, 0, len(r.Samples))
	ss := make([]store.Sample, 0, len(r.Samples))
	for _, s := range r.Samples {
		labels := map[string]string{}
		for _, l := range s.Labels {
			labels[l.Name] = l.Value
		}
		ms = append(ms, metrics.Sample{Host: r.Host, Name: s.Name, Labels: labels, Value: s.Value, Counter: s.Kind != snmppoll.Gauge})
		ss = append(ss, store.Sample{Host: r.Host, Metric: s.Name, Labels: labels, Value: s.Value, Time: r.Time})
	}
	d.reg.SetSamples(r.Host, ms)
	if err := d.store.PutSamples(ctx, ss); err != nil && ctx.Err() == nil {
		d.log.Warn("storing poll samples", "host", r.Host, "err", err)
	}
}

// user reads an SNMPv3 user's passphrases from its files or environment variables.
func (d *Daemon) user(u config.SNMPUser) (usm.User, error) {
	out := usm.User{Name: u.Name, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
	auth, err := d.secret(u.AuthPassFile, u.AuthPassEnv)
	if err != nil {
		return out, fmt.Errorf("user %s: auth pass: %w", u.Name, err)
	}
	priv, err := d.secret(u.PrivPassFile, u.PrivPassEnv)
	if err != nil {
		return out, fmt.Errorf("user %s: priv pass: %w", u.Name, err)
	}
	if auth != "" {
		p, ok := authProto(protoName(u.AuthProto, "SHA"))
		if !ok {
			return out, fmt.Errorf("user %s: unknown auth_proto %q", u.Name, u.AuthProto)
		}
		out.AuthProto, out.AuthPass = p, auth
	}
	if priv != "" {
		if auth == "" {
			return out, fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", u.Name)
		}
		p, ok := privProto(protoName(u.PrivProto, "AES"))
		if !ok {
			return out, fmt.Errorf("user %s: unknown priv_proto %q", u.Name, u.PrivProto)
		}
		out.PrivProto, out.PrivPass = p, priv
	}
	return out, nil
}

func protoName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func authProto(name string) (gosnmp.SnmpV3AuthProtocol, bool) {
	p, ok := map[string]gosnmp.SnmpV3AuthProtocol{"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224,
		"SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512}[strings.ToUpper(name)]
	return p, ok
}

func privProto(name string) (gosnmp.SnmpV3PrivProtocol, bool) {
	p, ok := map[string]gosnmp.SnmpV3PrivProtocol{"DES": gosnmp.DES, "AES": gosnmp.AES, "AES192": gosnmp.AES192,
		"AES256": gosnmp.AES256, "AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C}[strings.ToUpper(name)]
	return p, ok
}

// secret reads a secret from a file (its first line) or an environment variable; "" when
// neither is given.
func (d *Daemon) secret(file, env string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		s, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSpace(s), nil
	case env != "":
		v := d.opts.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", env)
		}
		return v, nil
	}
	return "", nil
}

// SyslogAddrs are the bound addresses of the syslog listeners (UDP, TCP, TLS in order of
// the configuration), for the demo and tests that listen on port 0.
func (d *Daemon) SyslogAddrs() []net.Addr {
	var out []net.Addr
	for _, s := range d.sources {
		if srv, ok := s.(*syslog.Server); ok {
			for _, a := range []net.Addr{srv.UDPAddr(), srv.TCPAddr(), srv.TLSAddr()} {
				if a != nil {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// TrapAddr is the bound address of the trap receiver (nil without one).
func (d *Daemon) TrapAddr() net.Addr { return d.trapAddr }

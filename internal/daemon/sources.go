package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/source/fifo"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// sourcePlans lists the configured sources, then the extra ones (tests, the demo), in
// order. table names trap and poll OIDs; mibs (the configured MIB folders) is part of the
// spec of the sources that use the table, so that a changed MIB list rebuilds them.
func (d *Daemon) sourcePlans(cfg *config.Config, stateDir string, table *mib.Table) []plan {
	var ps []plan
	for _, f := range cfg.Sources.Files {
		ps = append(ps, d.filePlan(f, stateDir))
	}
	for _, s := range cfg.Sources.Syslog {
		ps = append(ps, d.syslogPlan(s))
	}
	for _, f := range cfg.Sources.FIFOs {
		ps = append(ps, d.fifoPlan(f))
	}
	if t := cfg.Sources.Traps; t != nil {
		ps = append(ps, d.trapPlan(t, table, cfg.MIBs))
	}
	for _, p := range cfg.Sources.Poll {
		ps = append(ps, d.pollPlan(p, table, cfg.MIBs))
	}
	for _, p := range cfg.Sources.PKCS11 {
		ps = append(ps, d.pkcs11Plan(p))
	}
	for i, s := range d.opts.Extra {
		ps = append(ps, plan{id: fmt.Sprintf("extra:%d:%s", i, s.Name()), build: func(string) (*unit, error) {
			return &unit{name: s.Name(), src: s, obj: s, release: func() { closeSource(s) }}, nil
		}})
	}
	return ps
}

func closeSource(s any) {
	if c, ok := s.(interface{ Close() }); ok {
		c.Close()
	}
}

// filePlan follows one path or glob. A changed entry replaces the follower: the old one
// stops, the pipeline flushes its records and its offsets are committed, then the new
// one starts from them, so no line is skipped or read twice.
func (d *Daemon) filePlan(f config.FileSource, stateDir string) plan {
	return plan{id: "file:" + f.Path, spec: spec(f), build: func(owner string) (*unit, error) {
		fl, err := follow.New(follow.Config{Path: f.Path, Format: f.Format, Start: f.Start,
			StateDir: filepath.Join(stateDir, "checkpoints"), Logger: d.log})
		if err != nil {
			return nil, err
		}
		l := map[string]string{"source": fl.Name()}
		d.reg.FuncOf(owner, "lines_read_total", "Lines read by a log source.", true, l, func() float64 { return float64(fl.Stats().Lines) })
		d.reg.FuncOf(owner, "parse_failures_total", parseFailuresHelp, true, l, func() float64 { return float64(fl.Stats().ParseFailures) })
		return &unit{name: fl.Name(), src: fl, obj: fl, flushed: fl.Commit, release: func() { closeSource(fl) }}, nil
	}}
}

const parseFailuresHelp = "Input a source could not parse (unparsed events, refused datagrams)."

func syslogConfig(s config.SyslogSource, log *slog.Logger) syslog.Config {
	scheme, addr, _ := strings.Cut(s.Listen, "://")
	sc := syslog.Config{Name: "syslog:" + s.Listen, CertFile: s.Cert, KeyFile: s.Key, ClientCAFile: s.ClientCA, Rate: s.Rate, Logger: log}
	switch scheme {
	case "udp":
		sc.UDP = addr
	case "tcp":
		sc.TCP = addr
	case "tls":
		sc.TLS = addr
	}
	return sc
}

// syslogPlan is one listener; a changed rate or certificate is applied on the open
// socket (a certificate rotation is the common reason to reload).
func (d *Daemon) syslogPlan(s config.SyslogSource) plan {
	return plan{id: "syslog:" + s.Listen, spec: spec(s),
		build: func(owner string) (*unit, error) {
			srv, err := syslog.New(syslogConfig(s, d.log))
			if err != nil {
				return nil, err
			}
			l := map[string]string{"source": srv.Name()}
			d.reg.FuncOf(owner, "packets_read_total", "Datagrams or messages read by a network source.", true, l, func() float64 { return float64(srv.Stats().Messages) })
			d.reg.FuncOf(owner, "parse_failures_total", parseFailuresHelp, true, l, func() float64 { return float64(srv.Stats().ParseFailures) })
			d.reg.FuncOf(owner, "syslog_limited_total", "Syslog messages dropped by the per-sender rate limit.", true, l, func() float64 { return float64(srv.Stats().Limited) })
			d.reg.FuncOf(owner, "syslog_kernel_drops_total", "UDP datagrams the kernel dropped (buffer full).", true, l, func() float64 { return float64(srv.Stats().KernelDrops) })
			return &unit{name: srv.Name(), src: srv, obj: srv, release: func() { closeSource(srv) }}, nil
		},
		reconfigure: func(u *unit) error { return u.obj.(*syslog.Server).Reconfigure(syslogConfig(s, d.log)) },
	}
}

func fifoConfig(f config.FIFOSource, log *slog.Logger) fifo.Config {
	return fifo.Config{Path: f.Path, Format: f.Format, Logger: log}
}

// fifoPlan is one named pipe; a changed format applies without closing it (a closed
// read end would give the writer EPIPE).
func (d *Daemon) fifoPlan(f config.FIFOSource) plan {
	return plan{id: "fifo:" + f.Path, spec: spec(f),
		build: func(owner string) (*unit, error) {
			r, err := fifo.New(fifoConfig(f, d.log))
			if err != nil {
				return nil, err
			}
			l := map[string]string{"source": r.Name()}
			d.reg.FuncOf(owner, "lines_read_total", "Lines read by a log source.", true, l, func() float64 { return float64(r.Stats().Lines) })
			d.reg.FuncOf(owner, "parse_failures_total", parseFailuresHelp, true, l, func() float64 { return float64(r.Stats().ParseFailures) })
			return &unit{name: r.Name(), src: r, obj: r, release: func() { closeSource(r) }}, nil
		},
		reconfigure: func(u *unit) error { return u.obj.(*fifo.Reader).Reconfigure(fifoConfig(f, d.log)) },
	}
}

// trapPlan is the trap receiver; communities, users, the minimum level and the MIBs
// change on the open socket.
func (d *Daemon) trapPlan(t *config.TrapSource, table *mib.Table, mibs []string) plan {
	return plan{id: "traps:" + t.Listen, spec: spec(t, mibs),
		build: func(owner string) (*unit, error) {
			rc, err := d.trapConfig(t, table)
			if err != nil {
				return nil, fmt.Errorf("sources.traps: %w", err)
			}
			rcv, err := receiver.New(rc)
			if err != nil {
				return nil, fmt.Errorf("sources.traps: %w", err)
			}
			name := "traps:" + rcv.Addr().String()
			l := map[string]string{"source": name}
			d.reg.FuncOf(owner, "packets_read_total", "Datagrams or messages read by a network source.", true, l, func() float64 { return float64(rcv.Stats().Packets) })
			d.reg.FuncOf(owner, "source_events_total", "Events emitted by a source.", true, l, func() float64 { return float64(rcv.Stats().Events) })
			d.reg.FuncOf(owner, "parse_failures_total", parseFailuresHelp, true, l, func() float64 { return float64(rcv.Stats().RejectedTotal()) })
			return &unit{name: name, obj: rcv, release: func() { _ = rcv.Close() },
				run: func(ctx context.Context) error {
					return rcv.Run(ctx, func(ev *event.Event) {
						d.names.name(ev)
						// Blocks while the pipeline's queue is full: back-pressure, not loss.
						if err := d.pipe.Emit(ctx, pipeline.Record{Event: ev}); err != nil && ctx.Err() == nil {
							d.log.Warn("trap not queued", "err", err)
						}
					})
				}}, nil
		},
		reconfigure: func(u *unit) error {
			rc, err := d.trapConfig(t, table)
			if err != nil {
				return err
			}
			return u.obj.(*receiver.Receiver).Reconfigure(rc)
		},
	}
}

// trapConfig reads the receiver's settings, its users' passphrases included.
func (d *Daemon) trapConfig(t *config.TrapSource, table *mib.Table) (receiver.Config, error) {
	rc := receiver.Config{Addr: t.Listen, MIB: table, Logger: d.log}
	if len(t.Communities) > 0 {
		rc.Communities = []receiver.CommunityRule{{Communities: t.Communities}}
	}
	if t.MinSecurity != "" {
		l, err := receiver.ParseLevel(t.MinSecurity)
		if err != nil {
			return rc, fmt.Errorf("min_security: %w", err)
		}
		rc.MinLevel = l
	}
	for _, u := range t.Users {
		uu, err := d.user(u)
		if err != nil {
			return rc, err
		}
		tu := receiver.User{User: uu}
		for _, s := range u.EngineIDs {
			id, err := usm.ParseEngineID(s)
			if err != nil {
				return rc, fmt.Errorf("user %s: engine_ids: %w", u.Name, err)
			}
			tu.EngineIDs = append(tu.EngineIDs, id)
		}
		rc.Users = append(rc.Users, tu)
	}
	return rc, nil
}

// pollPlan polls one HSM; a changed entry replaces the poller (the next poll is the new
// one's first: a poll is a reading, nothing is lost between two).
func (d *Daemon) pollPlan(p config.PollTarget, table *mib.Table, mibs []string) plan {
	return plan{id: "poll:" + p.Host + "/" + p.Name, spec: spec(p, mibs), build: func(owner string) (*unit, error) {
		return d.buildPoller(owner, p, table)
	}}
}

func (d *Daemon) buildPoller(owner string, p config.PollTarget, table *mib.Table) (*unit, error) {
	tg := poller.Target{Addr: p.Host, Name: p.Name, Timeout: time.Duration(p.Timeout), Retries: p.Retries}
	if p.User != nil {
		u, err := d.user(*p.User)
		if err != nil {
			return nil, err
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
			return nil, fmt.Errorf("community: %w", err)
		}
		tg.Version, tg.Community = "2c", c
	}
	pl, err := poller.New(poller.Options{Target: tg, Profile: p.Profile, MIB: table,
		Thresholds: p.Thresholds, Interval: time.Duration(p.Interval), Logger: d.log})
	if err != nil {
		return nil, err
	}
	name := "poll:" + tg.String()
	var polls, failures, events atomicCounter
	var host atomic.Pointer[string] // the host its samples are exported under
	l := map[string]string{"source": name}
	d.reg.FuncOf(owner, "polls_total", "SNMP polls done.", true, l, polls.value)
	d.reg.FuncOf(owner, "poll_failures_total", "SNMP polls that failed.", true, l, failures.value)
	d.reg.FuncOf(owner, "source_events_total", "Events emitted by a source.", true, l, events.value)
	return &unit{name: name, obj: pl,
		release: func() {
			_ = pl.Close()
			if h := host.Load(); h != nil {
				d.reg.ForgetSamples(*h) // not polled any more: no stale figures on /metrics
			}
		},
		run: func(ctx context.Context) error {
			defer pl.Close()
			return pl.Run(ctx, func(r *poller.Result, err error) {
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
				if r.Host != "" {
					host.Store(&r.Host)
					d.names.learn(p.Host, r.Profile, r.Host)
				}
				d.samples(ctx, r)
			})
		}}, nil
}

// samples hands a poll's figures to /metrics and to the store.
func (d *Daemon) samples(ctx context.Context, r *poller.Result) {
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
		ms = append(ms, metrics.Sample{Host: r.Host, Name: s.Metric.Name, Help: s.Metric.Help, Labels: labels, Value: s.Metric.Value(s.Value), Counter: s.Metric.Counter})
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
		p, err := usm.AuthProtocol(protoName(u.AuthProto, "SHA"))
		if err != nil {
			return out, fmt.Errorf("user %s: auth_proto: %w", u.Name, err)
		}
		out.AuthProto, out.AuthPass = p, auth
	}
	if priv != "" {
		if auth == "" {
			return out, fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", u.Name)
		}
		p, err := usm.PrivProtocol(protoName(u.PrivProto, "AES"))
		if err != nil {
			return out, fmt.Errorf("user %s: priv_proto: %w", u.Name, err)
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
	for _, u := range d.units() {
		if srv, ok := u.obj.(*syslog.Server); ok {
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
func (d *Daemon) TrapAddr() net.Addr {
	for _, u := range d.units() {
		if rcv, ok := u.obj.(*receiver.Receiver); ok {
			return rcv.Addr()
		}
	}
	return nil
}

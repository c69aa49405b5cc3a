package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/spf13/pflag"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/sender"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// trapSendFlags are scan's --trap-* flags: where and how to replay the Luna
// notifications of a log into an NMS, as the appliance's trap agent would have sent them.
type trapSendFlags struct {
	targets, oids, mibs                           []string
	user, authProto, privProto, engine, deAsserts string
	applianceIP                                   string
	community, authPass, privPass                 secretFlag
	inform                                        bool
	timeout                                       time.Duration
	retries, burst                                int
	rate                                          float64
}

func (f *trapSendFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVar(&f.targets, "trap-target", nil, "send the events' Luna notifications to this NMS, HOST:PORT (repeatable)")
	f.community.register(fl, "trap-community", "HSMWATCH_TRAP_COMMUNITY", "the v2c community of --trap-target")
	fl.StringVar(&f.user, "trap-user", "", "send SNMPv3 as this user instead of v2c")
	fl.StringVar(&f.authProto, "trap-auth-proto", "SHA", "--trap-user's authentication protocol")
	f.authPass.register(fl, "trap-auth-pass", "HSMWATCH_TRAP_AUTH_PASS", "--trap-user's authentication passphrase")
	fl.StringVar(&f.privProto, "trap-priv-proto", "AES", "--trap-user's privacy protocol")
	f.privPass.register(fl, "trap-priv-pass", "HSMWATCH_TRAP_PRIV_PASS", "--trap-user's privacy passphrase")
	fl.StringVar(&f.engine, "trap-engine-id", "", "engine ID (hex) v3 traps are sent under; derived from the host name when empty (printed at start)")
	fl.BoolVar(&f.inform, "trap-inform", false, "send informs and wait for each acknowledgement")
	fl.DurationVar(&f.timeout, "trap-timeout", time.Second, "wait for an inform's acknowledgement")
	fl.IntVar(&f.retries, "trap-retries", 2, "resend an unacknowledged inform this many times")
	fl.StringVar(&f.deAsserts, "trap-deasserts", "all", "de-asserts to send: all, lsta (as the appliance: fan, power supply, motherboard only) or none")
	fl.Float64Var(&f.rate, "trap-rate", 0, "notifications per second per category (token bucket; 0: no limit)")
	fl.IntVar(&f.burst, "trap-burst", 0, "bucket size of --trap-rate (default: the rate, at least 1)")
	fl.StringArrayVar(&f.oids, "trap-oid", nil, "NAME=OID for a notification or ssLogReference the MIB lacks, such as powerSupplyAttentionNotify=1.3.6.1.4.1.23629.1.5.2.2.3 (repeatable)")
	fl.StringVar(&f.applianceIP, "trap-appliance-ip", "", "ip of ssLogReference's host:ip for events that carry none (default 0.0.0.0)")
	fl.StringArrayVar(&f.mibs, "mibs", nil, "MIB file or folder with the notification OIDs, such as the vendor's SAFENET-APPLIANCE-MIB (repeatable)")
}

// sink returns the trap sink the flags describe, or nil when there is no --trap-target.
// Warnings and the engine ID go to warn.
func (f *trapSendFlags) sink(warn io.Writer) (*sender.Sink, error) {
	if len(f.targets) == 0 {
		return nil, nil
	}
	cfg := sender.Config{Rate: f.rate, Burst: f.burst, ApplianceIP: f.applianceIP, OIDs: map[string]string{}}
	var err error
	if cfg.DeAsserts, err = sender.ParseDeAsserts(f.deAsserts); err != nil {
		return nil, fmt.Errorf("--trap-deasserts: %w", err)
	}
	for _, kv := range f.oids {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--trap-oid %q: want NAME=OID", kv)
		}
		cfg.OIDs[k] = v
	}
	if f.engine != "" {
		if cfg.EngineID, err = usm.ParseEngineID(f.engine); err != nil {
			return nil, fmt.Errorf("--trap-engine-id: %w", err)
		}
	}
	cfg.MIB = mib.Builtin()
	if len(f.mibs) > 0 {
		if err := cfg.MIB.Load(f.mibs...); err != nil {
			return nil, fmt.Errorf("--mibs: %w", err)
		}
	}
	base := notify.Target{Inform: f.inform, Timeout: f.timeout, Retries: f.retries}
	if f.user != "" {
		u := usm.User{Name: f.user, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
		auth, err := f.authPass.get(warn)
		if err != nil {
			return nil, err
		}
		priv, err := f.privPass.get(warn)
		if err != nil {
			return nil, err
		}
		if err := u.SetPassphrases(f.authProto, auth, f.privProto, priv); err != nil {
			return nil, fmt.Errorf("--trap-user %s: %w", f.user, err)
		}
		base.Version, base.User = gosnmp.Version3, &u
	} else {
		c, err := f.community.get(warn)
		if err != nil {
			return nil, err
		}
		if c == "" {
			return nil, errors.New("--trap-target needs --trap-community (or --trap-community-file, HSMWATCH_TRAP_COMMUNITY) for v2c, or --trap-user for v3")
		}
		base.Version, base.Community = gosnmp.Version2c, c
	}
	for _, t := range f.targets {
		tg := base
		tg.Addr = t
		cfg.Targets = append(cfg.Targets, tg)
	}
	s, err := sender.New(cfg)
	if err != nil {
		return nil, err
	}
	if f.user != "" && !f.inform {
		fmt.Fprintf(warn, "hsmwatch: v3 traps are sent under engine ID 0x%x (net-snmp: createUser -e 0x%x %s ...)\n", s.EngineID(), s.EngineID(), f.user)
	}
	if m := s.Missing(); len(m) > 0 {
		fmt.Fprintf(warn, "hsmwatch: warning: no OID for %s: load the vendor's SAFENET-APPLIANCE-MIB (--mibs DIR) or set --trap-oid NAME=OID; such events are not sent\n", strings.Join(m, ", "))
	}
	return s, nil
}

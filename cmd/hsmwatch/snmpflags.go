package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// snmpFlags are the options poll and check snmp share: where the agent is, how to
// authenticate, which MIBs name the objects, which profile and thresholds apply.
type snmpFlags struct {
	profile, version, user, authProto, privProto, context, stateFile string
	community, authPass, privPass                                    pollSecret
	mibs, thresholds                                                 []string
	timeout                                                          time.Duration
	retries                                                          int
}

// pollSecret is a community or passphrase with its three sources. A value on the
// command line shows in process lists (ps, /proc/PID/cmdline): the file and the
// environment variable are the safe forms. The value never reaches the output, a log or
// an error.
type pollSecret struct {
	flag, env, what string
	value, file     string
}

func (s *pollSecret) register(fl *pflag.FlagSet, flag, env, what string) {
	s.flag, s.env, s.what = flag, env, what
	fl.StringVar(&s.value, flag, "", what+"; unsafe: a value given here shows in process lists, use --"+flag+"-file or "+env)
	fl.StringVar(&s.file, flag+"-file", "", "read "+what+" from the first line of this file (safe)")
}

// get returns the secret: the flag's value, else the file's first line, else the
// environment variable; "" when none is given.
func (s *pollSecret) get(getenv func(string) string) (string, error) {
	switch {
	case s.file != "" && s.value != "":
		return "", fmt.Errorf("give %s once: --%s or --%s-file", s.what, s.flag, s.flag)
	case s.value != "":
		return s.value, nil
	case s.file != "":
		b, err := os.ReadFile(s.file)
		if err != nil {
			return "", fmt.Errorf("--%s-file: %w", s.flag, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimRight(line, "\r"); line == "" {
			return "", fmt.Errorf("--%s-file %s: the first line is empty", s.flag, s.file)
		}
		return line, nil
	}
	return getenv(s.env), nil
}

// register adds the flags; timeoutFlag names the per-request timeout (poll: timeout;
// check snmp: snmp-timeout, as -t/--timeout is the whole check's).
func (f *snmpFlags) register(fl *pflag.FlagSet, timeoutFlag string, timeout time.Duration) {
	fl.StringVar(&f.profile, "profile", "auto", "auto (detect from what the agent serves), "+strings.Join(poller.ShippedProfiles().Names(), ", "))
	fl.StringVar(&f.version, "snmp-version", "", "2c or 3 (default: 3 when --user is given, else 2c)")
	f.community.register(fl, "community", "HSMWATCH_COMMUNITY", "the SNMP v2c community (default public, the Dinamo's only one)")
	fl.StringVarP(&f.user, "user", "u", "", "the SNMPv3 user (USM)")
	fl.StringVar(&f.authProto, "auth-proto", "SHA", "SNMPv3 authentication protocol: "+usm.AuthProtocolNames)
	f.authPass.register(fl, "auth-pass", "HSMWATCH_AUTH_PASS", "the SNMPv3 authentication passphrase (none: noAuthNoPriv)")
	fl.StringVar(&f.privProto, "priv-proto", "AES", "SNMPv3 privacy protocol: "+usm.PrivProtocolNames)
	f.privPass.register(fl, "priv-pass", "HSMWATCH_PRIV_PASS", "the SNMPv3 privacy passphrase (none: authNoPriv)")
	fl.StringVar(&f.context, "context", "", "the SNMPv3 context name")
	fl.StringArrayVar(&f.mibs, "mibs", nil, "load the MIB files of this folder or file (repeatable): the Dinamo objects and the Luna partition table need the vendor's MIBs (or mibs/ of this project for its simulator)")
	fl.DurationVar(&f.timeout, timeoutFlag, timeout, "how long one SNMP request waits for its answer")
	fl.IntVar(&f.retries, "retries", 1, "how often an unanswered request is sent again (a request gives up after timeout x (retries+1))")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "ID=WARN,CRIT: thresholds of a health item (Monitoring Plugins ranges; empty: none), e.g. battery=50:,25: (repeatable)")
	fl.StringVar(&f.stateFile, "state-file", "", "keep counters and states in this file between runs, so that rates (errors per second) can be computed")
}

// options builds the poller's options for host; warnings (MIB files that did not load
// entirely) are returned apart: the rest of the MIBs is usable.
func (f *snmpFlags) options(host string, getenv func(string) string) (poller.Options, []string, error) {
	var o poller.Options
	community, err := f.community.get(getenv)
	if err != nil {
		return o, nil, err
	}
	authPass, err := f.authPass.get(getenv)
	if err != nil {
		return o, nil, err
	}
	privPass, err := f.privPass.get(getenv)
	if err != nil {
		return o, nil, err
	}
	if community == "" {
		community = "public"
	}
	if f.retries < 0 {
		return o, nil, fmt.Errorf("--retries %d: must not be negative", f.retries)
	}
	if f.timeout <= 0 {
		return o, nil, fmt.Errorf("the SNMP timeout must be more than zero")
	}
	retries := f.retries
	o.Target = poller.Target{Addr: host, Version: f.version, Community: community, User: f.user,
		AuthProto: f.authProto, AuthPass: authPass, PrivProto: f.privProto, PrivPass: privPass,
		Context: f.context, Timeout: f.timeout, Retries: &retries}
	if err := o.Target.Validate(); err != nil {
		return o, nil, err
	}
	o.Profile = f.profile
	for _, s := range f.thresholds {
		id, th, err := poller.ParseThresholdFlag(s)
		if err != nil {
			return o, nil, err
		}
		if o.Thresholds == nil {
			o.Thresholds = map[string]poller.Thresholds{}
		}
		o.Thresholds[id] = th
	}
	o.MIB = mib.Builtin()
	var warnings []string
	if len(f.mibs) > 0 {
		for _, m := range f.mibs {
			if _, err := os.Stat(m); err != nil {
				return o, nil, fmt.Errorf("--mibs: %w", err)
			}
		}
		if err := o.MIB.Load(f.mibs...); err != nil {
			warnings = append(warnings, "some MIB definitions did not load: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	}
	return o, warnings, nil
}

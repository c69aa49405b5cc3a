package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/sim"
)

type simFlags struct {
	config, trapCommunity, step, syslogFormat, dinamoLog, lunaLog string
	dinamo, luna, lunaUsers, trapTargets, scenarios, syslog       []string
	count                                                         int
	seed                                                          uint64
	events, noActivity, listScenarios                             bool
}

func (a *app) simCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim [--dinamo ADDR]... [--luna ADDR --luna-user NAME:AUTHPASS:PRIVPASS]... [--config FILE]",
		Short: "Run simulated HSMs: SNMP agents, traps, log streams, scripted scenarios",
		Long: `sim runs simulated HSMs in this process until interrupted, and first prints where each one
listens (passphrases are never printed):

  Dinamo  an SNMP v2c agent (Get community public; other communities get no answer; Set is
          refused) with the MIB-2 system and interfaces groups and the proprietary objects
          of the Dinamo SNMP documentation under enterprise 41054, in the layout of
          mibs/DINAMO-STANDIN-MIB.txt (a stand-in: the vendor's numbers are not public); v2c
          traps for its 30 events; its native event log (--dinamo-log).
  Luna    an SNMP v3 agent (USM users) with CHRYSALIS-UTSP-MIB, SAFENET-HSM-MIB hsmTable
          and partition table, UCD-SNMP-MIB memory and CPU, LM-SENSORS-MIB sensors; v3
          SAFENET-APPLIANCE-MIB traps with ssLogReference; its syslog stream over UDP or TCP
          (--syslog) in the appliance's file format or RFC 5424.

Values move over time (seeded random walks: the same --seed gives the same numbers).
Scenarios (--scenario, a YAML file or a shipped name; --list-scenarios) script failures in
time and keep SNMP values, traps and log lines consistent. --config FILE describes a whole
fleet in YAML (examples/sim/); a fleet of 1,000 HSMs fits in one process.

--luna-user NAME:AUTHPASS:PRIVPASS is an authPriv user with SHA and AES; NAME:AUTHPASS an
authNoPriv user (SHA), NAME alone noAuthNoPriv. Passphrases have at least 8 characters;
the first user sends the traps. Trap receivers need the engine ID that sim prints
(snmptrapd: createUser -e ENGINEID NAME SHA AUTHPASS AES PRIVPASS).

MIB files for the names: mibs/ (snmpwalk -M +mibs -m ALL ...).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.sim(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "fleet configuration (YAML); the flags below add HSMs to it")
	fl.StringArrayVar(&f.dinamo, "dinamo", nil, "run a Dinamo HSM answering SNMP on this UDP address (repeatable)")
	fl.StringArrayVar(&f.luna, "luna", nil, "run a Luna Network HSM 7 answering SNMPv3 on this UDP address (repeatable)")
	fl.StringArrayVar(&f.lunaUsers, "luna-user", nil, "SNMPv3 user of every --luna HSM: NAME:AUTHPASS:PRIVPASS (SHA/AES), NAME:AUTHPASS or NAME (repeatable)")
	fl.StringArrayVar(&f.trapTargets, "trap-target", nil, "send traps to this UDP host:port (repeatable; a Dinamo takes at most 4)")
	fl.StringVar(&f.trapCommunity, "trap-community", "public", "community of the Dinamo HSMs' v2c traps")
	fl.StringArrayVar(&f.scenarios, "scenario", nil, "play this scenario (YAML file or shipped name) on the --dinamo or --luna HSMs of its vendor (repeatable)")
	fl.IntVar(&f.count, "count", 1, "run this many HSMs from each --dinamo and --luna address, the port (or --step ip: the address) counting up")
	fl.StringVar(&f.step, "step", "port", "with --count: port or ip (127.0.0.1, 127.0.0.2, ...)")
	fl.StringArrayVar(&f.syslog, "syslog", nil, "send the Luna HSMs' log lines to this syslog receiver: udp://HOST:PORT or tcp://HOST:PORT (repeatable)")
	fl.StringVar(&f.syslogFormat, "syslog-format", "luna", "format of --syslog lines: luna (the appliance's file format) or rfc5424")
	fl.StringVar(&f.dinamoLog, "dinamo-log", "", "append the Dinamo HSMs' event logs (native format) to this file; {name} and {serial} are replaced")
	fl.StringVar(&f.lunaLog, "luna-log", "", "append the Luna HSMs' log lines (file format) to this file; {name} and {serial} are replaced")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the values' random walks")
	fl.BoolVar(&f.events, "events", false, "print every log line and trap the HSMs emit")
	fl.BoolVar(&f.noActivity, "no-activity", false, "no background client sessions (Dinamo log lines) between scenario steps")
	fl.BoolVar(&f.listScenarios, "list-scenarios", false, "list the shipped scenarios and exit")
	return cmd
}

func (a *app) sim(cmd *cobra.Command, f simFlags) error {
	if f.listScenarios {
		for _, name := range sim.ShippedScenarios() {
			sc, err := sim.LoadScenario(name)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%-28s %-6s %s\n", name, sc.Vendor, firstSentence(sc.Description))
		}
		return nil
	}
	cfg, err := f.fleetConfig(cmd)
	if err != nil {
		return err
	}
	opts := sim.FleetOptions{Logger: a.log}
	if f.events {
		opts.Observe = sim.StdoutObserver(a.stdout)
	}
	fleet, err := sim.NewFleet(cfg, opts)
	if err != nil {
		return err
	}
	if err := fleet.Listen(); err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch sim: %v\n", err)
		return exitError{code: 1}
	}
	members := fleet.Members()
	fmt.Fprintf(a.stdout, "hsmwatch sim: %d simulated HSM(s); Ctrl-C stops\n", len(members))
	for _, m := range members {
		fmt.Fprintln(a.stdout, m.Describe())
	}
	if err := fleet.Run(cmd.Context()); err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch sim: %v\n", err)
		return exitError{code: 1}
	}
	fmt.Fprintln(a.stderr, "hsmwatch sim: stopped")
	return nil
}

// fleetConfig builds the fleet from --config and the flags.
func (f simFlags) fleetConfig(cmd *cobra.Command) (*sim.FleetConfig, error) {
	cfg := &sim.FleetConfig{}
	if f.config != "" {
		data, err := os.ReadFile(f.config)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		if cfg, err = sim.ParseFleetConfig(data); err != nil {
			return nil, fmt.Errorf("--config %s: %w", f.config, err)
		}
		cfg.ResolvePaths(filepath.Dir(f.config))
	}
	if cmd.Flags().Changed("seed") || f.config == "" {
		cfg.Seed = f.seed
	}
	if f.noActivity {
		no := false
		cfg.Activity = &no
	}
	cfg.TrapTargets = append(cfg.TrapTargets, f.trapTargets...)
	if f.count < 1 {
		return nil, errors.New("--count must be at least 1")
	}
	if len(f.lunaUsers) > 0 && len(f.luna) == 0 {
		return nil, errors.New("--luna-user needs --luna")
	}
	var users []sim.UserConfig
	for _, u := range f.lunaUsers {
		parts := strings.SplitN(u, ":", 3)
		uc := sim.UserConfig{Name: parts[0]}
		if len(parts) > 1 {
			uc.AuthPass = parts[1]
		}
		if len(parts) > 2 {
			uc.PrivPass = parts[2]
		}
		if _, err := uc.User(); err != nil {
			return nil, fmt.Errorf("--luna-user: %w", err)
		}
		users = append(users, uc)
	}
	scenarios := map[string][]string{}
	for _, ref := range f.scenarios {
		sc, err := sim.LoadScenario(ref)
		if err != nil {
			return nil, fmt.Errorf("--scenario: %w", err)
		}
		scenarios[sc.Vendor] = append(scenarios[sc.Vendor], ref)
	}
	if len(scenarios[sim.VendorDinamo]) > 0 && len(f.dinamo) == 0 {
		return nil, errors.New("--scenario: a Dinamo scenario needs --dinamo")
	}
	if len(scenarios[sim.VendorLuna]) > 0 && len(f.luna) == 0 {
		return nil, errors.New("--scenario: a Luna scenario needs --luna")
	}
	if f.dinamoLog != "" && len(f.dinamo) == 0 {
		return nil, errors.New("--dinamo-log needs --dinamo")
	}
	if (len(f.syslog) > 0 || f.lunaLog != "") && len(f.luna) == 0 {
		return nil, errors.New("--syslog and --luna-log need --luna")
	}
	for _, addr := range f.dinamo {
		cfg.HSMs = append(cfg.HSMs, sim.HSMConfig{Vendor: sim.VendorDinamo, Addr: addr, Count: f.count, Step: f.step,
			TrapCommunity: f.trapCommunity, EventLog: f.dinamoLog, Scenarios: scenarios[sim.VendorDinamo]})
	}
	var syslog []sim.SyslogConfig
	for _, s := range f.syslog {
		syslog = append(syslog, sim.SyslogConfig{Target: s, Format: f.syslogFormat})
	}
	for _, addr := range f.luna {
		if len(users) == 0 {
			return nil, errors.New("--luna needs --luna-user: the appliance answers SNMPv3 only")
		}
		cfg.HSMs = append(cfg.HSMs, sim.HSMConfig{Vendor: sim.VendorLuna, Addr: addr, Count: f.count, Step: f.step,
			Users: users, Syslog: syslog, LogFile: f.lunaLog, Scenarios: scenarios[sim.VendorLuna]})
	}
	if len(cfg.HSMs) == 0 {
		return nil, errors.New("nothing to simulate: give --dinamo, --luna or --config")
	}
	return cfg, nil
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gosnmp/gosnmp"
	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/trapd"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

type trapdFlags struct {
	listen, communityFile, usersFile, minLevel, localEngine string
	user, authProto, privProto                              string
	communities, engineIDs, mibs, rules                     []string
	authPass, privPass                                      secretFlag
	noTimeliness                                            bool
	workers, queue                                          int
}

func (a *app) trapdCommand() *cobra.Command {
	var f trapdFlags
	cmd := &cobra.Command{
		Use:   "trapd --listen ADDR [--community C]... [--user NAME ...] [--mibs DIR]",
		Short: "Receive SNMP traps and informs and print them as events",
		Long: `trapd receives SNMP notifications on a UDP address until interrupted and prints one
schema v1 event (JSON line) per accepted trap or inform, classified by the rule catalog:
Luna SAFENET-APPLIANCE-MIB notifications with their ssLogReference read into fields, Dinamo
traps named by a loaded MIB, anything else kept raw. Counts go to standard error at the end.

v1/v2c: --community C admits C from any source; --community-file FILE has one rule per
line, "COMMUNITY [CIDR...]" (# comments), for per-source communities. Without either, no
v1/v2c notification is accepted. Informs are acknowledged.

v3: --user NAME with --auth-proto/--priv-proto and the passphrases, or --users FILE (YAML,
several users, in the daemon configuration's schema). A trap is signed under the sender's engine ID, which must be listed
(--engine-id, repeatable; the Luna appliance's "sysconf snmp trap set -engineid"); informs
use trapd's own engine ID, printed at start (--local-engine-id to fix it). --min-level
(default authNoPriv) is enforced for every user; a replay window refuses traps whose
boots/time go back.

--users FILE lists several users, each entry as under sources.traps.users in
the hsmwatch serve configuration; passphrases are not written in it but read from a file
of their own (its first line) or an environment variable. The users file and the
passphrase files are refused when the group or others may read them (chmod 600):

  users:
    - name: pete
      auth_proto: SHA                  # MD5 SHA SHA224 SHA256 SHA384 SHA512 (default SHA)
      auth_pass_file: /etc/hsmwatch/pete.auth   # or auth_pass_env: PETE_AUTH
      priv_proto: AES                  # DES AES AES192 AES256 AES192C AES256C (default AES)
      priv_pass_env: PETE_PRIV         # or priv_pass_file: FILE
      engine_ids: ["80001f8804646c756e6131"]    # senders that may sign this user's traps (hex)
      min_security: authPriv           # this user's lowest level (with --min-level, the higher;
                                       # left out: its keys' level, as snmptrapd)
      no_timeliness: false             # true: no replay window (senders without boots/time)

Secrets: a flag value shows in process lists. Give passphrases and communities with the
file forms (--auth-pass-file, --priv-pass-file, --community-file, the --users file's
*_pass_file) or the environment (HSMWATCH_AUTH_PASS, HSMWATCH_PRIV_PASS, HSMWATCH_COMMUNITY,
the --users file's *_pass_env). They never
appear in logs, errors or events.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.trapd(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "0.0.0.0:162", "UDP address to receive on")
	fl.StringArrayVar(&f.communities, "community", nil, "admit v1/v2c notifications with this community from any source (repeatable; shows in process lists: prefer --community-file or HSMWATCH_COMMUNITY)")
	fl.StringVar(&f.communityFile, "community-file", "", `file of v1/v2c rules, one per line: "COMMUNITY [CIDR...]"`)
	fl.StringVar(&f.user, "user", "", "SNMPv3 user to accept notifications from")
	fl.StringVar(&f.authProto, "auth-proto", "SHA", "--user's authentication protocol: MD5, SHA, SHA224, SHA256, SHA384, SHA512")
	fl.StringVar(&f.privProto, "priv-proto", "AES", "--user's privacy protocol: DES, AES, AES192, AES256, AES192C, AES256C")
	f.authPass.register(fl, "auth-pass", "HSMWATCH_AUTH_PASS", "--user's authentication passphrase")
	f.privPass.register(fl, "priv-pass", "HSMWATCH_PRIV_PASS", "--user's privacy passphrase")
	fl.StringArrayVar(&f.engineIDs, "engine-id", nil, "engine ID (hex) a sender may sign --user's traps under (repeatable)")
	fl.BoolVar(&f.noTimeliness, "no-timeliness", false, "no replay window for --user's traps (for senders without engine boots/time)")
	fl.StringVar(&f.usersFile, "users", "", "YAML file of SNMPv3 users (format in the help above)")
	fl.StringVar(&f.minLevel, "min-level", "authNoPriv", "lowest SNMPv3 security level accepted: noAuthNoPriv, authNoPriv, authPriv")
	fl.StringVar(&f.localEngine, "local-engine-id", "", "trapd's own engine ID (hex), authoritative for informs; derived from the host name and port when empty")
	fl.StringArrayVar(&f.mibs, "mibs", nil, "MIB file or folder naming traps and variables (repeatable)")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule file or folder added to the shipped catalog (repeatable)")
	fl.IntVar(&f.workers, "workers", 0, "decoding workers (default 4)")
	fl.IntVar(&f.queue, "queue", 0, "datagrams waiting for a worker before drops are counted (default 65536)")
	return cmd
}

func (a *app) trapd(cmd *cobra.Command, f trapdFlags) error {
	cfg, err := f.config(a.stderr)
	if err != nil {
		return err
	}
	table := mib.Builtin()
	if len(f.mibs) > 0 {
		if err := table.Load(f.mibs...); err != nil {
			return fmt.Errorf("--mibs: %w", err)
		}
	}
	cfg.MIB = table
	cat, err := classify.Load(f.rules...)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	cfg.Logger = a.log
	cfg.Prepare = func(ev *event.Event) { cat.Classify(ev) } // in the workers, in parallel
	r, err := receiver.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "trapd: listening on udp %s; engine ID 0x%x (for informs); %d community rules, %d v3 users, minimum %v\n",
		r.Addr(), r.EngineID(), len(cfg.Communities), len(cfg.Users), cfg.MinLevel)
	err = trapd.Print(cmd.Context(), r, a.stdout)
	trapd.WriteStats(a.stderr, r.Stats())
	return err
}

// config turns the flags into a receiver configuration; warnings go to warn.
func (f trapdFlags) config(warn io.Writer) (receiver.Config, error) {
	cfg := receiver.Config{Addr: f.listen, Workers: f.workers, Queue: f.queue}
	var err error
	if cfg.MinLevel, err = receiver.ParseLevel(f.minLevel); err != nil {
		return cfg, fmt.Errorf("--min-level: %w", err)
	}
	if f.localEngine != "" {
		if cfg.EngineID, err = usm.ParseEngineID(f.localEngine); err != nil {
			return cfg, fmt.Errorf("--local-engine-id: %w", err)
		}
	}
	if len(f.communities) > 0 {
		fmt.Fprintln(warn, "hsmwatch: warning: --community shows in process lists; use --community-file or HSMWATCH_COMMUNITY")
		cfg.Communities = append(cfg.Communities, receiver.CommunityRule{Communities: f.communities})
	} else if c := os.Getenv("HSMWATCH_COMMUNITY"); c != "" {
		cfg.Communities = append(cfg.Communities, receiver.CommunityRule{Communities: []string{c}})
	}
	if f.communityFile != "" {
		rules, err := trapd.ReadCommunityFile(f.communityFile, warn)
		if err != nil {
			return cfg, err
		}
		cfg.Communities = append(cfg.Communities, rules...)
	}
	if f.user != "" {
		u, err := f.flagUser(warn)
		if err != nil {
			return cfg, err
		}
		cfg.Users = append(cfg.Users, u)
	} else if len(f.engineIDs) > 0 || f.noTimeliness {
		return cfg, errors.New("--engine-id and --no-timeliness apply to --user, which is missing")
	}
	if f.usersFile != "" {
		us, err := trapd.ReadUsersFile(f.usersFile, warn, os.Getenv)
		if err != nil {
			return cfg, err
		}
		cfg.Users = append(cfg.Users, us...)
	}
	if len(cfg.Communities) == 0 && len(cfg.Users) == 0 {
		return cfg, errors.New("nothing would be accepted: give --community (or --community-file, HSMWATCH_COMMUNITY) for v1/v2c, --user or --users for v3")
	}
	return cfg, nil
}

func (f trapdFlags) flagUser(warn io.Writer) (receiver.User, error) {
	u := receiver.User{User: usm.User{Name: f.user, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}, NoTimeliness: f.noTimeliness}
	auth, err := f.authPass.get(warn)
	if err != nil {
		return u, err
	}
	priv, err := f.privPass.get(warn)
	if err != nil {
		return u, err
	}
	if err := u.SetPassphrases(f.authProto, auth, f.privProto, priv); err != nil {
		return u, fmt.Errorf("--user %s: %w", f.user, err)
	}
	for _, s := range f.engineIDs {
		id, err := usm.ParseEngineID(s)
		if err != nil {
			return u, fmt.Errorf("--engine-id: %w", err)
		}
		u.EngineIDs = append(u.EngineIDs, id)
	}
	return u, nil
}

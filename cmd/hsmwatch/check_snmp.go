package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/snmpcheck"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

type checkSNMPFlags struct {
	check.Options
	snmpFlags
}

func (a *app) checkSNMPCommand() *cobra.Command {
	var f checkSNMPFlags
	cmd := &cobra.Command{
		Use:   "snmp HOST[:PORT] [--community-file F | --user NAME --auth-pass-file F --priv-pass-file F] [--profile P] [--mibs DIR] [-w 80] [-c 90] [-v] [-t 10]",
		Short: "Check an HSM's health over SNMP (storage, NTLS, battery, tamper, error rates, ...)",
		Long: `snmp polls one HSM the way hsmwatch poll does and reports its health as a Nagios/Icinga
plugin: one line "STATUS: summary | perfdata", the worst health item deciding the status,
exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

  OK: myLuna (luna-network): 10 health items OK | hsm_storage_used_532018=37.5%;80;90;0;100 ...
  CRITICAL: myLuna (luna-network): NTLS status is notRunning(2) (critical when 2); 9 more OK | ...

UNKNOWN when the HSM does not answer or refuses the credentials, with what to check, and
when the objects of its profile need a MIB that is not loaded (--mibs DIR).

-w and -c set the ranges of the storage items (HSM and partition storage, Dinamo disk);
--threshold ID=WARN,CRIT those of any item (see hsmwatch poll for the items and their
defaults). Rates need the previous run's counters: give --state-file FILE, one per HSM.

Secrets: --community, --auth-pass and --priv-pass show in process lists; use
--community-file, --auth-pass-file, --priv-pass-file or HSMWATCH_COMMUNITY,
HSMWATCH_AUTH_PASS, HSMWATCH_PRIV_PASS. -t bounds the whole check; --snmp-timeout and
--retries each request.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return a.checkUsage(c, fmt.Errorf("give one HSM address (HOST or HOST:PORT), got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.checkSNMP(cmd.Context(), args[0], f) },
	}
	fl := cmd.Flags()
	f.Options.Register(fl, "the storage used in percent (HSM, partitions, Dinamo disk; default: the profile's 80 and 90)", "", "")
	f.snmpFlags.register(fl, "snmp-timeout", 2*time.Second)
	fl.Lookup("verbose").Usage = "-v: every health item; -vv: the target, the profile and why, the HSM's identity; -vvv: the notes of the poll"
	return cmd
}

func (a *app) checkSNMP(ctx context.Context, host string, f checkSNMPFlags) error {
	_, to, err := f.Options.Parse() // checks -w and -c; they become the storage items' thresholds
	var o poller.Options
	var warnings []string
	if err == nil {
		o, warnings, err = f.snmpFlags.options(host, os.Getenv)
	}
	if err == nil {
		o.SetStorage(f.Warn, f.Crit)
		var p *poller.Poller
		if p, err = poller.New(o); err == nil {
			defer p.Close()
			// gosnmp bounds its socket reads by the context's deadline, so the poll itself
			// ends shortly after -t: the watchdog answers at -t, and Close does not wait
			// long for a request still in flight.
			pctx, cancel := context.WithTimeout(ctx, to.After+250*time.Millisecond)
			defer cancel()
			tr := check.NewTrace(a.stdout, f.Verbose)
			res := to.Run(ctx, func(context.Context) check.Result {
				return snmpcheck.Result(pctx, tr, p, snmpcheck.Options{StateFile: f.stateFile, Verbose: f.Verbose, Notes: warnings})
			}, func() string {
				return "polling " + o.Target.String() + ": raise -t or lower --snmp-timeout and --retries"
			})
			tr.Close()
			return exitStatus(res.Write(a.stdout))
		}
	}
	check.Unknownf("%v (see hsmwatch check snmp --help)", err).Write(a.stdout)
	return exitError{code: int(check.Unknown)}
}

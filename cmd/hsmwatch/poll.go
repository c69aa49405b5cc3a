package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

type pollFlags struct {
	snmpFlags
	output string
}

func (a *app) pollCommand() *cobra.Command {
	var f pollFlags
	cmd := &cobra.Command{
		Use:   "poll [--profile P] [--community C | --user NAME --auth-proto SHA --auth-pass-file F --priv-proto AES --priv-pass-file F] [--mibs DIR] [--output text|json] [--timeout 5s --retries 1] HOST[:PORT]",
		Short: "Poll one HSM over SNMP and print its health",
		Long: `poll asks one HSM's SNMP agent (v2c or v3) for the objects of its profile and prints
what it is and how it is: each health item with its value, thresholds and state, and its
partitions.

The profile is detected from what the agent serves, never from sysObjectID:
  luna-network    CHRYSALIS-UTSP-MIB::ntlsOperStatus.0 answers (Luna Network HSM 7)
  luna-pcie-host  SAFENET-HSM-MIB::hsmTable has rows, no NTLS (a host with a Luna PCIe HSM)
  dinamo          objects under enterprise 41054 (Dinamo HSM)
  generic         anything else (system group, UCD-SNMP-MIB memory)
or set with --profile.

Names, not numbers: the public Luna objects are known without a file; the Dinamo objects
and the Luna partition table need the vendor's MIB files (--mibs DIR; this project's
mibs/ serves its simulator). Without them poll says what is missing.

Secrets: --community, --auth-pass and --priv-pass show in process lists. The safe forms
are --community-file, --auth-pass-file, --priv-pass-file (first line of the file) and the
environment variables HSMWATCH_COMMUNITY, HSMWATCH_AUTH_PASS, HSMWATCH_PRIV_PASS.
Secrets are never printed.

Rates (operation errors per second, ...) need two readings: they are "pending" on a
single poll unless --state-file keeps the previous one. Thresholds: --threshold
ID=WARN,CRIT with Monitoring Plugins ranges (battery=50:,25: warns below 50 %).

Exit status: 0 polled (whatever the health), 1 the HSM could not be polled (the message
says what to check), 2 the command line is wrong.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.poll(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	f.register(fl, "timeout", poller.DefaultTimeout)
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	return cmd
}

func (a *app) poll(cmd *cobra.Command, host string, f pollFlags) error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output %q: use text or json", f.output)
	}
	o, warnings, err := f.options(host, os.Getenv)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		a.log.Warn(w)
	}
	// no logger: the poller's warnings would repeat the error poll prints itself
	p, err := poller.New(o)
	if err != nil {
		return err
	}
	defer p.Close()
	var notes []string
	if n := p.RestoreFile(f.stateFile); n != "" {
		notes = append(notes, n)
	}
	res, perr := p.Poll(cmd.Context())
	if perr == nil {
		if n := p.SaveFile(f.stateFile); n != "" {
			notes = append(notes, n)
		}
	}
	res.Notes = append(res.Notes, notes...)
	if f.output == "json" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
	} else if perr == nil {
		res.WriteText(a.stdout)
	}
	if perr != nil {
		fmt.Fprintf(a.stderr, "hsmwatch: %v\n", perr)
		return exitError{code: 1}
	}
	return nil
}

package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// checkCommand groups the Nagios/Icinga checks (issue 6). Every check writes the plugin
// output on standard output only and exits 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN; a
// wrong command line is UNKNOWN too, said on standard output.
func (a *app) checkCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "check", Short: "Nagios/Icinga checks: memory, token, log, snmp"}
	// Children inherit this: a bad flag is an UNKNOWN result, not cobra's exit status 2
	// (which a monitoring system would read as CRITICAL).
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return a.checkUsage(c, err) })
	cmd.AddCommand(a.checkLogCommand(), a.checkMemoryCommand(), a.checkTokenCommand(), a.checkSNMPCommand())
	return cmd
}

// checkUsage reports a command-line error as an UNKNOWN plugin result.
func (a *app) checkUsage(c *cobra.Command, err error) error {
	check.Unknownf("%v (see %s --help)", err, c.CommandPath()).Write(a.stdout)
	return exitError{code: int(check.Unknown)}
}

// checkNoArgs refuses positional arguments the plugin way.
func (a *app) checkNoArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return a.checkUsage(c, fmt.Errorf("unexpected argument %q", args[0]))
	}
	return nil
}

// exitStatus turns a plugin exit code into run's result.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return exitError{code: code}
}

// p11Flags are the options check memory and check token share, with p11memmon's letters.
type p11Flags struct {
	check.Options
	lib, label, slot string
	all              bool
}

func (f *p11Flags) register(fl *pflag.FlagSet) {
	fl.StringVarP(&f.lib, "library", "p", "", "the PKCS#11 library of the HSM (libCryptoki2.so, libsofthsm2.so, ...)")
	fl.StringVarP(&f.label, "label", "l", "", "the label of the token to check")
	fl.StringVarP(&f.slot, "slot", "s", "", "the slot of the token to check (decimal or 0x hexadecimal); with -l, the token there must have that label")
	fl.BoolVar(&f.all, "all", false, "check every initialised token")
	f.Register(fl, "the memory usage in percent", pkcs11probe.DefaultMemoryWarn, pkcs11probe.DefaultMemoryCrit)
	fl.Lookup("verbose").Usage = "-v: each step (p11memmon's lines); -vv: what the library and tokens report; -vvv: every PKCS#11 call"
}

// parse checks the shared options; the error is a usage error.
func (f *p11Flags) parse() (pkcs11probe.Selection, check.Threshold, check.Timeout, error) {
	var sel pkcs11probe.Selection
	if f.lib == "" {
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("give the PKCS#11 library with -p LIBRARY")
	}
	sel.Label, sel.All = f.label, f.all
	if f.slot != "" {
		n, err := strconv.ParseUint(f.slot, 0, 64)
		if err != nil || uint64(uint(n)) != n {
			return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("-s %q: give a slot number (as pkcs11-tool --list-slots shows it)", f.slot)
		}
		sel.Slot, sel.HasSlot = uint(n), true
	}
	switch {
	case sel.All && (sel.HasSlot || sel.Label != ""):
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("--all checks every token: give it without -l and -s")
	case !sel.All && !sel.HasSlot && sel.Label == "":
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("say which token: -l LABEL, -s SLOT or --all")
	}
	th, to, err := f.Options.Parse()
	return sel, th, to, err
}

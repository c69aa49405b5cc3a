package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

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

// selection is which tokens a check looks at.
type selection struct {
	label   string
	slot    uint
	hasSlot bool
	all     bool
}

// parse checks the shared options; the error is a usage error.
func (f *p11Flags) parse() (selection, check.Threshold, check.Timeout, error) {
	var sel selection
	if f.lib == "" {
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("give the PKCS#11 library with -p LIBRARY")
	}
	sel.label, sel.all = f.label, f.all
	if f.slot != "" {
		n, err := strconv.ParseUint(f.slot, 0, 64)
		if err != nil || uint64(uint(n)) != n {
			return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("-s %q: give a slot number (as pkcs11-tool --list-slots shows it)", f.slot)
		}
		sel.slot, sel.hasSlot = uint(n), true
	}
	switch {
	case sel.all && (sel.hasSlot || sel.label != ""):
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("--all checks every token: give it without -l and -s")
	case !sel.all && !sel.hasSlot && sel.label == "":
		return sel, check.Threshold{}, check.Timeout{}, fmt.Errorf("say which token: -l LABEL, -s SLOT or --all")
	}
	th, to, err := f.Options.Parse()
	return sel, th, to, err
}

// stuckDetail completes "timed out after 10s" with the call the library did not return from.
func stuckDetail(tr *check.Trace, lib string) func() string {
	return func() string {
		call := tr.Current()
		if call == "" {
			return ""
		}
		return fmt.Sprintf("waiting for %s in %s; check that the HSM answers (network, server list, client certificate) or raise -t", call, lib)
	}
}

// p11Session is an open library and the tokens a check selected.
type p11Session struct {
	mod    *pkcs11probe.Module
	tr     *check.Trace
	tokens []pkcs11probe.Token
	failed map[uint]error // --all: slots whose token could not be read
}

// openTokens loads and initialises the library and finds the tokens of the selection,
// writing p11memmon's step lines at -v. On failure it returns the UNKNOWN result to report;
// the caller closes the session in every case.
func openTokens(ctx context.Context, tr *check.Trace, lib string, sel selection) (*p11Session, *check.Result) {
	s := &p11Session{tr: tr}
	tr.Step("dlopen")
	mod, err := pkcs11probe.Open(lib)
	if err != nil {
		r := check.Unknownf("%v; check the path given with -p and that the library suits this system (ldd %s)", err, lib)
		return s, &r
	}
	s.mod = mod
	mod.Before = func(call string) {
		tr.Step("%s", call)
		tr.Printf(check.Debug, "calling %s", call)
	}
	if v := mod.Version(); v != "" {
		tr.Printf(check.Verbose, "Successfully loaded PKCS #11 library %s with Cryptoki version %s", lib, v)
	} else {
		tr.Printf(check.Verbose, "Successfully loaded PKCS #11 library %s", lib)
	}
	if err := mod.Initialize(); err != nil {
		r := check.Unknownf("%v; check the library's configuration (Luna: Chrystoki.conf and the client certificate; SoftHSM: SOFTHSM2_CONF and its token folder) and that this user may read it", err)
		return s, &r
	}
	tr.Printf(check.Verbose, "Successfully initialized the PKCS #11 library %s", lib)
	if tr.Enabled(check.Config) {
		if info, err := mod.Info(); err == nil {
			tr.Printf(check.Config, "Library: %s, %s, version %s, Cryptoki %s", info.Manufacturer, info.Description, info.LibraryVersion, info.CryptokiVersion)
		} else {
			tr.Printf(check.Config, "C_GetInfo: %v", err)
		}
	}
	if err := ctx.Err(); err != nil {
		r := check.Unknownf("%v", err)
		return s, &r
	}
	slots, err := mod.SlotsWithToken()
	if err != nil {
		r := check.Unknownf("%v; the library cannot list its slots", err)
		return s, &r
	}
	switch {
	case sel.all:
		tr.Printf(check.Verbose, "Found %d slots with a token, checking every initialised token", len(slots))
	case sel.label != "":
		tr.Printf(check.Verbose, "Found %d slots with a token, looking for token %s", len(slots), sel.label)
	default:
		tr.Printf(check.Verbose, "Found %d slots with a token, looking at slot %d", len(slots), sel.slot)
	}
	if len(slots) == 0 {
		r := check.Unknownf("the library %s reports no slot with a token present; check that the HSM is reachable and that this client has a partition or token assigned (Luna: lunacm slot list; SoftHSM: softhsm2-util --show-slots)", lib)
		return s, &r
	}

	if sel.hasSlot {
		t, err := mod.Token(sel.slot)
		if err != nil {
			var r check.Result
			switch {
			case pkcs11probe.IsRV(err, pkcs11probe.RVSlotIDInvalid):
				r = check.Unknownf("there is no slot %d (slots with a token: %s); check -s", sel.slot, slotList(slots))
			case pkcs11probe.IsRV(err, pkcs11probe.RVTokenNotPresent):
				r = check.Unknownf("no token is present in slot %d (slots with a token: %s); check -s", sel.slot, slotList(slots))
			default:
				r = check.Unknownf("%v", err)
			}
			return s, &r
		}
		if sel.label != "" && t.Label != sel.label {
			r := check.Unknownf("the token in slot %d is labelled %q, not %q; check -l and -s", sel.slot, t.Label, sel.label)
			return s, &r
		}
		tr.Printf(check.Verbose, "Found the token with label %s in slot %d", t.Label, t.Slot)
		s.tokens = []pkcs11probe.Token{t}
		return s, nil
	}

	var all []pkcs11probe.Token
	failed := map[uint]error{}
	for _, slot := range slots {
		if err := ctx.Err(); err != nil {
			r := check.Unknownf("%v", err)
			return s, &r
		}
		t, err := mod.Token(slot)
		if err != nil {
			tr.Printf(check.Config, "Slot %d: %v", slot, err)
			failed[slot] = err
			continue
		}
		all = append(all, t)
	}
	if sel.all {
		for _, t := range all {
			if t.Initialized() {
				s.tokens = append(s.tokens, t)
			} else {
				tr.Printf(check.Config, "Slot %d: the token is not initialised, skipped", t.Slot)
			}
		}
		s.failed = failed
		if len(s.tokens) == 0 && len(failed) == 0 {
			r := check.Unknownf("none of the %d tokens present is initialised; initialise one, or check -p", len(all))
			return s, &r
		}
		return s, nil
	}
	var match []pkcs11probe.Token
	for _, t := range all {
		if t.Label == sel.label {
			match = append(match, t)
		}
	}
	switch len(match) {
	case 0:
		var labels []string
		for _, t := range all {
			if t.Initialized() {
				labels = append(labels, strconv.Quote(t.Label))
			}
		}
		msg := fmt.Sprintf("no token labelled %q among the %d present", sel.label, len(slots))
		if len(labels) > 0 {
			msg += " (labels: " + strings.Join(labels, ", ") + ")"
		}
		if len(failed) > 0 {
			msg += fmt.Sprintf("; %d could not be read (%v)", len(failed), failedList(failed))
		}
		r := check.Unknownf("%s; check -l (labels are case-sensitive)", msg)
		return s, &r
	case 1:
		tr.Printf(check.Verbose, "Found the token with label %s in slot %d", match[0].Label, match[0].Slot)
		s.tokens = match
		return s, nil
	}
	var where []string
	for _, t := range match {
		where = append(where, fmt.Sprintf("slot %d serial %s", t.Slot, t.Serial))
	}
	r := check.Unknownf("%d tokens are labelled %q (%s); choose one with -s SLOT", len(match), sel.label, strings.Join(where, ", "))
	return s, &r
}

// close finalizes and unloads the library, and says so at -v.
func (s *p11Session) close() {
	if s.mod == nil {
		return
	}
	if err := s.mod.Close(); err != nil {
		s.tr.Printf(check.Verbose, "%v", err)
	}
	s.tr.Printf(check.Verbose, "Unloaded PKCS #11 library")
}

func slotList(slots []uint) string {
	var s []string
	for _, n := range slots {
		s = append(s, strconv.FormatUint(uint64(n), 10))
	}
	return strings.Join(s, ", ")
}

func failedList(m map[uint]error) string {
	var out []string
	for _, slot := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[slot].Error())
	}
	return strings.Join(out, "; ")
}

// tokenName names a token in --all texts and perfdata labels: its label, and its slot when
// labels repeat; '=' and '|', which perfdata labels cannot hold, become '_'.
func tokenName(t pkcs11probe.Token, dupLabel bool) string {
	l := strings.NewReplacer("=", "_", "|", "_").Replace(t.Label)
	if dupLabel || l == "" {
		return fmt.Sprintf("%s@slot%d", l, t.Slot)
	}
	return l
}

// duplicateLabels returns the labels that more than one of the tokens carry.
func duplicateLabels(toks []pkcs11probe.Token) map[string]bool {
	n := map[string]int{}
	for _, t := range toks {
		n[t.Label]++
	}
	d := map[string]bool{}
	for l, c := range n {
		if c > 1 {
			d[l] = true
		}
	}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

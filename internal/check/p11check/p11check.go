// Package p11check is the Nagios/Icinga rendering of what a PKCS#11 token reports about
// itself: the plugin results of hsmwatch check token and check memory, built from the
// token health of internal/source/pkcs11probe.
package p11check

import (
	"context"
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// Run selects the tokens of sel in lib and evaluates them with eval, all within the
// timeout to: a library that hangs gives an UNKNOWN result naming the call it hangs in.
// The library runs in a child process (pkcs11probe.Spawner: this program started again,
// which must call pkcs11probe.MaybeChild first): a crash, a signal or an exit of the
// library is an UNKNOWN result naming the library and what happened, and at the timeout
// the child is killed.
// A selection that fails is the UNKNOWN result, its error saying what to check. tr is
// closed before Run returns, so that a stuck call cannot write after the result.
func Run(ctx context.Context, to check.Timeout, tr *check.Trace, lib string, sel pkcs11probe.Selection,
	eval func(*pkcs11probe.Session) check.Result) check.Result {
	res := to.Run(ctx, func(ctx context.Context) check.Result {
		var res check.Result
		err := pkcs11probe.Spawner{}.Select(ctx, tr, lib, sel, func(s *pkcs11probe.Session) { res = eval(s) })
		if err != nil {
			// A selection that failed, or a *ChildError: "PKCS#11 library LIB: probe
			// process killed by signal SIGSEGV in C_GetTokenInfo (slot 1)".
			return check.Unknownf("%v", err)
		}
		return res
	}, StuckDetail(tr, lib))
	tr.Close()
	return res
}

// StuckDetail completes check's "timed out after 10s" with the call the library did not
// return from, as tr last recorded it.
func StuckDetail(tr *check.Trace, lib string) func() string {
	return func() string {
		call := tr.Current()
		if call == "" {
			return ""
		}
		return fmt.Sprintf("waiting for %s in %s; check that the HSM answers (network, server list, client certificate) or raise -t", call, lib)
	}
}

// TokenName names a token in --all texts and perfdata labels: its label, and its slot when
// labels repeat; '=' and '|', which perfdata labels cannot hold, become '_'.
func TokenName(t pkcs11probe.Token, dupLabel bool) string {
	l := strings.NewReplacer("=", "_", "|", "_").Replace(t.Label)
	if dupLabel || l == "" {
		return fmt.Sprintf("%s@slot%d", l, t.Slot)
	}
	return l
}

// DuplicateLabels returns the labels that more than one of the tokens carry.
func DuplicateLabels(toks []pkcs11probe.Token) map[string]bool {
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

// traceToken writes what a token reports about itself at -vv.
func traceToken(tr *check.Trace, t pkcs11probe.Token) {
	tr.Printf(check.Config, "Token in slot %d: label %q, model %s, serial %s, manufacturer %s, flags 0x%X (%s)",
		t.Slot, t.Label, t.Model, t.Serial, t.Manufacturer, uint64(t.Flags), strings.Join(t.Flags.Names(), ", "))
}

// allSummary is the summary of --all: the problems, and how many tokens are fine; none
// is the text when there is no problem, for okCount tokens.
func allSummary(problems []string, okCount int, none func(okCount int) string) string {
	summary := strings.Join(problems, "; ")
	switch {
	case len(problems) == 0:
		summary = none(okCount)
	case okCount > 0:
		summary += fmt.Sprintf("; %d more %s OK", okCount, plural(okCount, "token", "tokens"))
	}
	return summary
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func prefixFor(all bool, name string) string {
	if all {
		return name + " "
	}
	return ""
}

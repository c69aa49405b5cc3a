package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/p11check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

type tokenFlags struct {
	p11Flags
	sessWarn, sessCrit   string
	clockWarn, clockCrit string
}

func (a *app) checkTokenCommand() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token -p LIBRARY (-l LABEL | -s SLOT | --all) [options]",
		Short: "Check an HSM token's health over PKCS#11: PIN lockout, sessions, memory, clock",
		Long: `token reads what a PKCS#11 token reports about itself (no login needed) and checks:

  - the token is initialised and not in an error state (CKF_ERROR_STATE): else CRITICAL;
  - lockout flags: a user or SO PIN locked or at its final try is CRITICAL, a PIN count
    low (a wrong PIN since the last good login) or a PIN to be changed is a WARNING;
  - sessions and read/write sessions in use against their maximum, in percent
    (--sessions-warning, --sessions-critical), when the token reports both;
  - private and public memory in use, in percent (-w, -c), when the token reports them;
  - the token's clock against this host's, in seconds either way (--clock-warning,
    --clock-critical), for tokens with a clock (CKF_CLOCK_ON_TOKEN).

What a token does not report (SoftHSM reports no memory and no session count) is said in
the long text and does not change the state. --all checks every initialised token.
Thresholds are Monitoring Plugins ranges. Exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.`,
		Args: a.checkNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.checkToken(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.StringVar(&f.sessWarn, "sessions-warning", pkcs11probe.DefaultSessionsWarn, "WARNING when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.sessCrit, "sessions-critical", pkcs11probe.DefaultSessionsCrit, "CRITICAL when the sessions in use, in percent of the maximum, are outside this range")
	fl.StringVar(&f.clockWarn, "clock-warning", pkcs11probe.DefaultClockWarn, "WARNING when the token's clock is this many seconds or more away from the host's (a range over the absolute difference)")
	fl.StringVar(&f.clockCrit, "clock-critical", pkcs11probe.DefaultClockCrit, "CRITICAL when the token's clock is this far away from the host's")
	return cmd
}

func (a *app) checkToken(ctx context.Context, f tokenFlags) error {
	sel, mem, to, err := f.parse()
	var th pkcs11probe.Thresholds
	if err == nil {
		th.Memory = mem
		if th.Sessions, err = check.ParseThreshold(f.sessWarn, f.sessCrit); err != nil {
			err = fmt.Errorf("sessions: %w", err)
		}
	}
	if err == nil {
		if th.Clock, err = check.ParseThreshold(f.clockWarn, f.clockCrit); err != nil {
			err = fmt.Errorf("clock: %w", err)
		}
	}
	if err != nil {
		check.Unknownf("%v (see hsmwatch check token --help)", err).Write(a.stdout)
		return exitError{code: int(check.Unknown)}
	}
	tr := check.NewTrace(a.stdout, f.Verbose)
	res := p11check.Run(ctx, to, tr, f.lib, sel, func(s *pkcs11probe.Session) check.Result {
		return p11check.TokenResult(tr, s, th, sel.All)
	})
	return exitStatus(res.Write(a.stdout))
}

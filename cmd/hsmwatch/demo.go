package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/daemon"
)

func (a *app) demoCommand() *cobra.Command {
	var o daemon.DemoOptions
	cmd := &cobra.Command{
		Use:   "demo [--listen 127.0.0.1:PORT]",
		Short: "Run a simulated HSM fleet and the daemon watching it; prints the dashboard address",
		Long: `demo starts, in this process, one simulated Dinamo and two simulated Luna Network HSM 7
on loopback ports, a SoftHSM2 token where SoftHSM2 is installed (in a SOFTHSM2_CONF of its
own), and the daemon of "hsmwatch serve" from a generated configuration: the Luna syslog
streams to its syslog listener, traps go to its trap receiver, the Dinamo's event log is
followed, every HSM is polled, the token probed.

It is alive at once: the simulated HSMs first play the last day (--history) in a few
seconds, through the daemon's own parsing, classification, alarm state and store, so the
dashboard opens on a day of figures, events and alarms opened and cleared; then they go
on in real time. Their scenarios cycle (--cycle) so that something happens every few
minutes: a fan failure, NTLS crashing, a power supply failing (luna-demo-1); a tamper and
zeroization with their ALM codes, the HSM initialised again, a partition filling up and
freed (luna-demo-2); a key exported and the event log cleared, a battery running down and
replaced, failed logins (the Dinamo). A demo operator acknowledges the tamper alarms and
closes them once the HSM is back. The store is SQLite in a temporary folder removed at
exit. It runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.demo(cmd.Context(), o) },
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Listen, "listen", "127.0.0.1:0", "HTTP address of the dashboard and API (port 0: a free one)")
	fl.DurationVar(&o.History, "history", 24*time.Hour, "how much of the past is played at start (0s: none)")
	fl.DurationVar(&o.Cycle, "cycle", daemon.DemoCycle, "period of the scenarios")
	fl.StringVar(&o.SoftHSM, "softhsm", "", `SoftHSM2 library (default: found in the usual places; "none": no token)`)
	return cmd
}

func (a *app) demo(ctx context.Context, o daemon.DemoOptions) error {
	if o.History == 0 {
		o.History = -1 // the flag's 0s means none
	}
	o.Logger = a.log
	m, err := daemon.NewDemo(ctx, o)
	if err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch demo: %v\n", err)
		return exitError{code: 1}
	}
	for _, s := range m.Members() {
		fmt.Fprintln(a.stdout, s)
	}
	fmt.Fprintf(a.stdout, "hsmwatch demo: dashboard and API at http://%s/ (Ctrl-C stops)\n", m.Daemon.Addr())
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch demo: %v\n", err)
		return exitError{code: 1}
	}
	return nil
}

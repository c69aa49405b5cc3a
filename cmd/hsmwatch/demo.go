package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/daemon"
)

func (a *app) demoCommand() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "demo [--listen 127.0.0.1:PORT]",
		Short: "Run a simulated HSM fleet and the daemon watching it; prints the dashboard address",
		Long: `demo starts, in this process, one simulated Dinamo and two simulated Luna Network HSM 7
on loopback ports (scenarios luna-fan-failure and dinamo-key-lifecycle), and the daemon of
"hsmwatch serve" from a generated configuration: the Luna syslog streams to its syslog
listener, traps go to its trap receiver, every HSM is polled. The store is SQLite in a
temporary folder removed at exit. It runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.demo(cmd.Context(), listen) },
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "HTTP address of the dashboard and API (port 0: a free one)")
	return cmd
}

func (a *app) demo(ctx context.Context, listen string) error {
	m, err := daemon.NewDemo(ctx, daemon.DemoOptions{Listen: listen, Logger: a.log})
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

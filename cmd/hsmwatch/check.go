package main

import (
	"github.com/spf13/cobra"
)

// checkCommand groups the Nagios/Icinga checks (issue 6).
func (a *app) checkCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "check", Short: "Nagios/Icinga checks: memory, token, log, snmp"}
	cmd.AddCommand(a.checkLogCommand())
	return cmd
}
